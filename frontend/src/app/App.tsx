import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState, useSyncExternalStore, type ComponentType } from "react";
import { createBrowserRouter, RouterProvider } from "react-router-dom";
import { SignIn } from "@/features/auth/components/SignIn";
import { ApiError } from "@/lib/api-client";
import { getToken, subscribeToken } from "@/lib/auth";
import { Layout } from "./Layout";

// Each page is its own chunk, loaded on first visit (the sites pages bring the cron parser).
const page = (load: () => Promise<{ default: ComponentType }>) => async () => ({ Component: (await load()).default });

const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { index: true, lazy: page(() => import("@/features/overview/routes/OverviewPage")) },
      { path: "commands", lazy: page(() => import("@/features/commands/routes/CommandsPage")) },
      { path: "devices", lazy: page(() => import("@/features/devices/routes/DevicesPage")) },
      { path: "devices/:deviceId", lazy: page(() => import("./routes/DeviceDetailPage")) },
      { path: "jobs", lazy: page(() => import("@/features/jobs/routes/JobsPage")) },
      { path: "jobs/:jobId", lazy: page(() => import("@/features/jobs/routes/JobDetailPage")) },
      { path: "sites", lazy: page(() => import("@/features/sites/routes/SitesPage")) },
      { path: "sites/:siteId", lazy: page(() => import("@/features/sites/routes/SiteDetailPage")) },
      { path: "groups", lazy: page(() => import("@/features/groups/routes/GroupsPage")) },
      { path: "groups/:groupId", lazy: page(() => import("./routes/GroupPage")) },
      { path: "firmware", lazy: page(() => import("@/features/firmware/routes/FirmwarePage")) },
      { path: "imports", lazy: page(() => import("@/features/imports/routes/ImportsPage")) },
      { path: "imports/:importId", lazy: page(() => import("@/features/imports/routes/ImportPage")) },
      { path: "provisioning", lazy: page(() => import("@/features/provisioning/routes/TemplatesPage")) },
      { path: "provisioning/:templateName", lazy: page(() => import("@/features/provisioning/routes/TemplatePage")) },
      { path: "command-batches/:batchId", lazy: page(() => import("@/features/commands/routes/BatchPage")) },
      { path: "*", element: <main><h1>Not found</h1></main> },
    ],
  },
]);

function makeClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // 4xx answers are final; retry only what might be transient.
        retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
        refetchOnWindowFocus: true,
      },
    },
  });
}

export function App() {
  const [client] = useState(makeClient);
  const token = useSyncExternalStore(subscribeToken, getToken);
  return (
    <QueryClientProvider client={client}>
      {token ? <RouterProvider router={router} /> : <SignIn />}
    </QueryClientProvider>
  );
}
