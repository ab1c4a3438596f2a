// Hash routes (#/customers/<id>): the server serves one page at /console/, links survive reloads.
import { signal } from "./state";

export const route = signal<string>(location.hash.replace(/^#/, "") || "/customers");
window.addEventListener("hashchange", () => route.set(location.hash.replace(/^#/, "") || "/customers"));

export function navigate(path: string): void {
  location.hash = path;
}
