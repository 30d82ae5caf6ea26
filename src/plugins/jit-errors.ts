import { GraphQLError, type ExecutionResult, type SourceLocation, type Source } from 'graphql';

/** The offset in `body` of a line and column (both from 1), as graphql-js counts lines. */
function offsetOf(body: string, { line, column }: SourceLocation): number {
  let offset = 0;
  for (let current = 1; current < line; current++) {
    const next = body.slice(offset).search(/\r\n|[\n\r]/);
    if (next === -1) break;
    offset += next + (body.startsWith('\r\n', offset + next) ? 2 : 1);
  }
  return offset + column - 1;
}

/**
 * graphql-jit reports errors as its own GraphQLErrors: with locations but neither source nor nodes, and without
 * extensions when the original error had none. The plugins after it read extensions, and Yoga keeps an error's
 * locations (as it masks it, and as it writes the response) only through its nodes or its source and positions. So
 * each becomes a graphql-js error with a source and positions, its extensions, and its original error (which
 * masking hides when it is not a GraphQLError).
 */
function asGraphQLError(error: GraphQLError, source: Source | undefined): GraphQLError {
  if (error.nodes || error.source) return error;
  const { message, path, originalError, locations, extensions } = error;
  const positions = source && locations?.map((location) => offsetOf(source.body, location));
  return new GraphQLError(message, {
    ...(positions ? { source, positions } : {}),
    ...(path ? { path } : {}),
    ...(originalError ? { originalError } : {}),
    extensions: extensions ?? {},
  });
}

/** A graphql-jit result whose errors are what the other plugins expect (see asGraphQLError); `source` is the document's. */
export function withGraphQLErrors(result: ExecutionResult, source: Source | undefined): ExecutionResult {
  return result.errors ? { ...result, errors: result.errors.map((error) => asGraphQLError(error, source)) } : result;
}
