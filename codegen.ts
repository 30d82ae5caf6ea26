import type { CodegenConfig } from '@graphql-codegen/cli';

/** Typed documents for the client operations, from the committed schema (`npm run codegen`). */
const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['client/operations.graphql'],
  ignoreNoDocuments: false,
  generates: {
    'client/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        // Imports inside the generated files must carry .js under moduleResolution nodenext.
        importExtension: '.js',
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: 'string', JSON: 'unknown', ID: 'string' },
      },
    },
  },
};

export default config;
