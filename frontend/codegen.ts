import type { CodegenConfig } from "@graphql-codegen/cli";

// Operation types come from the served SDL that the backend writes to schema.graphql.
const config: CodegenConfig = {
  schema: "schema.graphql",
  documents: ["src/**/*.{ts,tsx}", "!src/gql/**"],
  ignoreNoDocuments: true,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        skipTypename: false,
        scalars: {
          DateTime: "string",
          UUID: "string",
          JSON: "unknown",
          Upload: "File",
        },
      },
    },
  },
};

export default config;
