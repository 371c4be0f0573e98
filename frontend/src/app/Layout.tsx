import { useQueryClient } from "@tanstack/react-query";
import { NavLink, Outlet } from "react-router-dom";
import { getToken, readClaims, setToken } from "@/lib/auth";

const NAV = [
  ["/", "Overview"],
  ["/devices", "Devices"],
  ["/commands", "Commands"],
  ["/jobs", "Jobs"],
  ["/sites", "Sites"],
  ["/groups", "Groups"],
  ["/firmware", "Firmware"],
  ["/imports", "Import"],
  ["/provisioning", "Provisioning"],
] as const;

export function Layout() {
  const claims = readClaims(getToken());
  const client = useQueryClient();
  return (
    <>
      <a className="skip" href="#content">Skip to content</a>
      <header className="topbar">
        <strong>Fleet console</strong>
        <nav aria-label="Main">
          {NAV.map(([to, label]) => <NavLink key={to} to={to} end={to === "/"}>{label}</NavLink>)}
        </nav>
        <span className="muted small" data-testid="tenant">tenant {claims?.tenant_id ?? "?"}</span>
        <button type="button" className="secondary" onClick={() => { client.clear(); setToken(null); }}>Sign out</button>
      </header>
      <div id="content" className="content"><Outlet /></div>
    </>
  );
}
