import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "@/app/App";
import { adoptTokenFromFragment } from "@/lib/auth";
import "./styles.css";

adoptTokenFromFragment();
// A console_url opened in a tab already on that page only changes the fragment.
window.addEventListener("hashchange", adoptTokenFromFragment);

const root = document.getElementById("root");
if (!root) throw new Error("no #root element");
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
