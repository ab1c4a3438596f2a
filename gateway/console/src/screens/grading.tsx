// Placeholder, replaced by the screen's own implementation.
import { t } from "../i18n";

export function Grading(_props: { rest: string }) {
  return <h1>{t("grading")}</h1>;
}
