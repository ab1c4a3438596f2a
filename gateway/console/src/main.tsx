// The console's shell: sign-in, navigation by permission, language switch, and the screens.
import { render } from "preact";
import "./style.css";
import { expired, session, signOut } from "./api";
import { useAccess } from "./access";
import { lang, setLang, t } from "./i18n";
import { route } from "./router";
import { useSignal } from "./state";
import { Audit } from "./screens/audit";
import { CustomerDetail } from "./screens/customer";
import { Customers } from "./screens/customers";
import { Settings } from "./screens/settings";
import { PasswordChange, SignIn } from "./screens/signin";
import { VERTICAL_SCREENS } from "./screens/verticals";

function Screen({ path }: { path: string }) {
  const access = useAccess();
  const customer = path.match(/^\/customers\/([^/]+)$/);
  if (customer) return <CustomerDetail id={decodeURIComponent(customer[1])} />;
  if (path.startsWith("/audit")) return <Audit />;
  if (path.startsWith("/settings")) return <Settings />;
  const screen = VERTICAL_SCREENS.find((s) => path === s.path || path.startsWith(s.path + "/"));
  if (screen && access && screen.visible(access)) return <screen.component rest={path.slice(screen.path.length)} />;
  return <Customers />;
}

function App() {
  useSignal(lang);
  const current = useSignal(session);
  const waiting = useSignal(expired);
  const path = useSignal(route);
  const access = useAccess();

  const header = (
    <header class="top">
      <a class="brand" href="#/customers">{t("appName")}</a>
      <button type="button" id="lang" lang={lang.get() === "zh" ? "en" : "zh-CN"}
        onClick={() => setLang(lang.get() === "zh" ? "en" : "zh")}>{t("language")}</button>
      {current && !current.mustChangePassword ? (
        <button type="button" id="signout" onClick={signOut}>{t("signOut")}</button>
      ) : null}
    </header>
  );
  if (!current && !waiting) return <>{header}<main><SignIn /></main></>;
  if (current?.mustChangePassword) return <>{header}<main><PasswordChange /></main></>;
  const links = [
    { path: "/customers", word: "customers" as const },
    ...VERTICAL_SCREENS.filter((s) => access && s.visible(access)),
    { path: "/audit", word: "audit" as const },
    { path: "/settings", word: "settings" as const },
  ];
  return (
    <>
      {header}
      <nav class="side" aria-label={t("appName")}>
        {links.map((l) => (
          <a href={`#${l.path}`} aria-current={path.startsWith(l.path) ? "page" : undefined}>{t(l.word)}</a>
        ))}
      </nav>
      {/* The screen stays mounted while the user signs in again: what they typed is kept. */}
      <main aria-hidden={waiting ? "true" : undefined}>
        <Screen path={path} />
      </main>
      {waiting ? (
        <div class="overlay" role="dialog" aria-modal="true" aria-labelledby="signin-title">
          <SignIn again />
        </div>
      ) : null}
    </>
  );
}

document.documentElement.lang = lang.get() === "zh" ? "zh-CN" : "en";
render(<App />, document.getElementById("app")!);
