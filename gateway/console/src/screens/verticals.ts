// The screens of engines and verticals, each shown when the tenant and the user may use it.
import type { FunctionComponent } from "preact";
import type { Access } from "../access";
import type { Word } from "../i18n";
import { Archives, visible as archivesVisible } from "./archives";
import { Complaints, visible as complaintsVisible } from "./complaints";
import { Grading, visible as gradingVisible } from "./grading";
import { Reception, visible as receptionVisible } from "./reception";
import { Tobacco, visible as tobaccoVisible } from "./tobacco";

export interface Screen {
  path: string;
  word: Word;
  visible: (access: Access) => boolean;
  component: FunctionComponent<{ rest: string }>;
}

export const VERTICAL_SCREENS: Screen[] = [
  { path: "/archives", word: "archives", component: Archives, visible: archivesVisible },
  { path: "/complaints", word: "complaints", component: Complaints, visible: complaintsVisible },
  { path: "/grading", word: "grading", component: Grading, visible: gradingVisible },
  { path: "/reception", word: "reception", component: Reception, visible: receptionVisible },
  { path: "/tobacco", word: "tobacco", component: Tobacco, visible: tobaccoVisible },
];
