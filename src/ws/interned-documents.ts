/** Distinct documents remembered at most; the oldest is forgotten first. */
const MAX_DOCUMENTS = 1_000;

/**
 * One string per distinct GraphQL document. Every browser of an app subscribes with the same few documents, but
 * each `subscribe` message parses into its own copy of the text, which its operation keeps for its whole life
 * (0.2–1 KB on every held subscription). Handing each message the remembered copy keeps one per document.
 */
export class InternedDocuments {
  private readonly documents = new Map<string, string>();

  constructor(private readonly maxDocuments = MAX_DOCUMENTS) {}

  /** How many documents are remembered. */
  get size(): number {
    return this.documents.size;
  }

  intern(document: string): string {
    const known = this.documents.get(document);
    if (known !== undefined) return known;
    if (this.documents.size >= this.maxDocuments) this.documents.delete(this.documents.keys().next().value!);
    this.documents.set(document, document);
    return document;
  }
}
