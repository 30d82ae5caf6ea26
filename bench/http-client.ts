import { Agent, request } from 'node:http';

/**
 * GraphQL over HTTP on kept-alive connections (node:http with a keep-alive Agent: no dependency beyond Node), as
 * an agent process or a backend would call the gateway. One pool per caller; `maxSockets` bounds its connections.
 */
export interface GraphQLReply {
  status: number;
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export class GraphQLHttpClient {
  private readonly agent: Agent;
  private readonly url: URL;

  constructor(url: string, maxSockets: number) {
    this.url = new URL(url);
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  post(token: string, query: string, variables: Record<string, unknown>): Promise<GraphQLReply> {
    const body = JSON.stringify({ query, variables });
    return new Promise((resolve, reject) => {
      const req = request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            'content-type': 'application/json',
            accept: 'application/graphql-response+json, application/json',
            'content-length': Buffer.byteLength(body),
            authorization: `Bearer ${token}`,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: res.statusCode ?? 0, ...(JSON.parse(text) as Omit<GraphQLReply, 'status'>) });
            } catch {
              resolve({ status: res.statusCode ?? 0, errors: [{ message: `not JSON: ${text.slice(0, 200)}` }] });
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The code to count a failed reply under: the first error's `extensions.code`, else the HTTP status. */
export function errorCodeOf(reply: GraphQLReply): string | undefined {
  if (reply.errors?.length) return reply.errors[0]!.extensions?.code ?? `HTTP_${reply.status}`;
  if (reply.status !== 200) return `HTTP_${reply.status}`;
  return undefined;
}
