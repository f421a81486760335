import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Received = { signature: string | undefined; body: string; event: { event: string; id: string; seq: number; createdAt: string; room: { id: string }; [key: string]: unknown } };

/**
 * A webhook receiver on 127.0.0.1: keeps every POST it took (answering
 * `status`, 204 by default). stop() closes it (deliveries then find nobody);
 * start() opens it again on the same port.
 */
export class WebhookReceiver {
	readonly received: Received[] = [];
	status = 204;
	#server: http.Server | undefined;
	#port = 0;

	static async start(): Promise<WebhookReceiver> {
		const receiver = new WebhookReceiver();
		await receiver.start();
		return receiver;
	}

	get url(): string {
		return `http://127.0.0.1:${this.#port}/hooks`;
	}

	async start(): Promise<void> {
		const server = http.createServer((req, res) => {
			const chunks: Buffer[] = [];
			req.on('data', (chunk: Buffer) => chunks.push(chunk));
			req.on('end', () => {
				if (this.status >= 200 && this.status < 300) {
					const body = Buffer.concat(chunks).toString('utf8');
					this.received.push({ signature: req.headers['switchyard-signature'] as string | undefined, body, event: JSON.parse(body) });
				}
				res.writeHead(this.status).end();
			});
		});
		await new Promise<void>((resolve) => server.listen(this.#port, '127.0.0.1', resolve));
		this.#port = (server.address() as AddressInfo).port;
		this.#server = server;
	}

	async stop(): Promise<void> {
		const server = this.#server;
		this.#server = undefined;
		server?.closeAllConnections();
		await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
	}

	/** The events taken, each once (by id), in the order first taken. */
	unique(): Received['event'][] {
		const seen = new Set<string>();
		return this.received.filter(({ event }) => !seen.has(event.id) && seen.add(event.id)).map(({ event }) => event);
	}
}
