import type { DocumentNode, ExecutionArgs, GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';

/** How often an operation not compiled yet has run. */
class Uses {
  constructor(readonly count: number) {}
}

/** Per operation name: what it compiled to, null when graphql-jit cannot compile it, or how often it ran so far. */
type ByOperation<T> = Map<string, T | null | Uses>;

/**
 * Operations compiled by graphql-jit, per schema, parsed document and operation name. Yoga's parse cache hands out
 * one document object per query text, so an entry lives as long as its document is cached.
 *
 * Compiling costs far more than one generic execution (it generates and evaluates code), so `usesBeforeCompiling`
 * lets an operation run that many times first: a client that sends a stream of distinct one-off documents then
 * never pays for, or holds, their compiled code.
 */
export class CompiledDocuments<T> {
  private readonly bySchema = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, ByOperation<T>>>();

  constructor(
    private readonly make: (query: CompiledQuery, args: ExecutionArgs) => T,
    private readonly usesBeforeCompiling = 0,
  ) {}

  /** The compiled operation of `args`, or undefined when it is not compiled (yet, or ever). */
  get(args: ExecutionArgs): T | undefined {
    let byDocument = this.bySchema.get(args.schema);
    if (!byDocument) this.bySchema.set(args.schema, (byDocument = new WeakMap()));
    let byOperation = byDocument.get(args.document);
    if (!byOperation) byDocument.set(args.document, (byOperation = new Map()));
    const name = args.operationName ?? '';
    const entry = byOperation.get(name);
    if (entry === null) return undefined;
    if (entry !== undefined && !(entry instanceof Uses)) return entry;
    const uses = entry?.count ?? 0;
    if (uses < this.usesBeforeCompiling) {
      byOperation.set(name, new Uses(uses + 1));
      return undefined;
    }
    const query = compileQuery(args.schema, args.document, args.operationName ?? undefined);
    const compiled = isCompiledQuery(query) ? this.make(query, args) : null;
    byOperation.set(name, compiled);
    return compiled ?? undefined;
  }
}

