// The screens of engines and verticals, each shown when the tenant and the user may use it.
import type { FunctionComponent } from "preact";
import type { Access } from "../access";
import { holds } from "../access";
import type { Word } from "../i18n";
import { Archives } from "./archives";
import { Complaints } from "./complaints";
import { Grading } from "./grading";
import { Reception } from "./reception";
import { Tobacco } from "./tobacco";

export interface Screen {
  path: string;
  word: Word;
  visible: (access: Access) => boolean;
  component: FunctionComponent<{ rest: string }>;
}

export const VERTICAL_SCREENS: Screen[] = [
  { path: "/archives", word: "archives", component: Archives,
    visible: (a) => a.verticals.has("automotive") && (holds(a, "automotive.archive") || holds(a, "archive")) },
  { path: "/complaints", word: "complaints", component: Complaints,
    visible: (a) => a.verticals.size > 0 && (holds(a, "complaint") || [...a.permissions].some((p) => p.includes("complaint"))) },
  { path: "/grading", word: "grading", component: Grading,
    visible: (a) => a.verticals.size > 0 && (holds(a, "grading") || holds(a, "blacklist")) },
  { path: "/reception", word: "reception", component: Reception,
    visible: (a) => a.verticals.has("real_estate") && (holds(a, "attribution") || holds(a, "real_estate")) },
  { path: "/tobacco", word: "tobacco", component: Tobacco,
    visible: (a) => a.verticals.has("tobacco") && holds(a, "tobacco") },
];
