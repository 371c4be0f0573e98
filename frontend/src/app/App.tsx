import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState, useSyncExternalStore } from "react";
import { createBrowserRouter, Navigate, RouterProvider } from "react-router-dom";
import { SignIn } from "@/features/auth/components/SignIn";
import { DevicesPage } from "@/features/devices/routes/DevicesPage";
import { GroupDetailPage } from "@/features/groups/routes/GroupDetailPage";
import { GroupsPage } from "@/features/groups/routes/GroupsPage";
import { JobDetailPage } from "@/features/jobs/routes/JobDetailPage";
import { JobsPage } from "@/features/jobs/routes/JobsPage";
import { SiteDetailPage } from "@/features/sites/routes/SiteDetailPage";
import { SitesPage } from "@/features/sites/routes/SitesPage";
import { ApiError } from "@/lib/api-client";
import { getToken, subscribeToken } from "@/lib/auth";
import { Layout } from "./Layout";
import { DeviceDetailPage } from "./routes/DeviceDetailPage";

const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { index: true, element: <Navigate to="/devices" replace /> },
      { path: "devices", element: <DevicesPage /> },
      { path: "devices/:deviceId", element: <DeviceDetailPage /> },
      { path: "jobs", element: <JobsPage /> },
      { path: "jobs/:jobId", element: <JobDetailPage /> },
      { path: "sites", element: <SitesPage /> },
      { path: "sites/:siteId", element: <SiteDetailPage /> },
      { path: "groups", element: <GroupsPage /> },
      { path: "groups/:groupId", element: <GroupDetailPage /> },
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
