// Typed operations from kehu's committed SDL: every operation of src/operations is checked against
// the schema and gets its result and variables types in src/generated/graphql.ts.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: "src/operations/*.graphql",
  generates: {
    "src/generated/graphql.ts": {
      plugins: ["typescript-operations"],
      config: {
        onlyOperationTypes: true,
        enumsAsTypes: true,
        avoidOptionals: { field: true, inputValue: false, object: true },
        scalars: { ID: "string", DateTime: "string", Date: "string", JSON: "any", Decimal: "string" },
      },
    },
  },
};
export default config;
