// Placeholder, replaced by the screen's own implementation.
import { t } from "../i18n";

export function Tobacco(_props: { rest: string }) {
  return <h1>{t("tobacco")}</h1>;
}
