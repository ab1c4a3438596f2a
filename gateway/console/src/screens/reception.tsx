// Placeholder, replaced by the screen's own implementation.
import { t } from "../i18n";

export function Reception(_props: { rest: string }) {
  return <h1>{t("reception")}</h1>;
}
