import { PassThrough } from 'node:stream';
import { mediasoup } from '../../src/media';
import { bridgeMediasoupLogs, createLogger } from '../../src/logging';
import { pollUntil } from '../helpers/poll';

function capture(level: string, format: 'json' | 'pretty') {
	const stream = new PassThrough();
	let text = '';
	stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
	const logger = createLogger({ level: level as 'info', format, stream });
	return { logger, text: () => text, json: () => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('logging', () => {
	test('JSON lines carry the module and ids of a child logger; secrets are redacted', async () => {
		const { logger, json } = capture('info', 'json');
		logger.child({ module: 'rooms', roomId: 'r1', peerId: 'p1' }).info('peer joined', { token: 'eyJhbGciOi.secret', password: 'hunter2' });
		await pollUntil('a line', () => json().length === 1);
		expect(json()[0]).toMatchObject({ level: 'info', message: 'peer joined', module: 'rooms', roomId: 'r1', peerId: 'p1', token: '[redacted]', password: '[redacted]' });
		expect(JSON.stringify(json())).not.toContain('hunter2');
	});

	test('pretty lines are readable text with the module in brackets', async () => {
		const { logger, text } = capture('info', 'pretty');
		logger.child({ module: 'workers' }).warn('worker died', { worker: 1 });
		await pollUntil('a line', () => text().length > 0);
		expect(text()).toMatch(/^\S+ warn \[workers\] worker died \{"worker":1\}\n$/);
	});

	test("mediasoup's own log lines (including the worker's) are routed into the logger", async () => {
		const { logger, json } = capture('debug', 'json');
		bridgeMediasoupLogs(logger);
		const worker = await mediasoup.createWorker({ logLevel: 'debug', logTags: ['info'] });
		try {
			await worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });
			await pollUntil('mediasoup lines', () => json().some((l) => String(l.namespace).startsWith('mediasoup:Channel')));
			const line = json().find((l) => l.module === 'mediasoup');
			expect(line).toMatchObject({ level: 'debug', module: 'mediasoup' });
			expect(String(line?.message)).not.toMatch(/^\d{4}-\d\d-\d\dT/);
			// The worker process's own lines arrive too.
			expect(json().some((l) => String(l.message).includes(`[pid:${worker.pid}]`))).toBe(true);
		} finally {
			worker.close();
		}
	});
});
