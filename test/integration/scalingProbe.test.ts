import { FleetTarget, roundRobin } from '../../scripts/loadtest/fleetTarget';
import { NodeTarget } from '../../scripts/loadtest/nodeTarget';
import { Pacer } from '../../scripts/loadtest/publisher';
import { runLoad } from '../../scripts/loadtest/run';
import { Sink } from '../../scripts/loadtest/sink';
import { LatencyProbe } from '../../scripts/scaling/figures';
import { startTestNode, type TestNode } from '../helpers/node';

const SECRET = 'scaling-probe-secret-0123456789abcdef';

// The pieces of `npm run bench:scaling` that need no network namespace, on a
// real node: peers dealt over two targets (here both the same node), and the
// latency probe, which matches the broadcaster's audio at the sink by RTP
// timestamp (mediasoup passes an audio packet's on unchanged). The
// benchmark itself needs root and runs by hand (docs/scaling.md).
describe('bench:scaling\'s load parts', () => {
	let node: TestNode;

	beforeAll(async () => {
		node = await startTestNode({ media: { workers: 1 }, auth: { secret: SECRET } });
	});
	afterAll(async () => {
		await node.close();
	});

	test('a broadcast dealt round robin over two targets, and the audio\'s latency to each', async () => {
		const sink = await Sink.start('127.0.0.1');
		const pacer = new Pacer();
		const probe = new LatencyProbe();
		pacer.onSend = (kind, _ssrc, timestamp) => kind === 'audio' && probe.sent(timestamp);
		sink.onRtp = (ssrc, timestamp, at) => probe.arrived(ssrc, timestamp, at);
		const targets = await Promise.all([0, 1].map((i) => NodeTarget.start({
			url: node.url, secret: SECRET, pacer, sink: () => sink.nextAddress(), ip: '127.0.0.1',
			onConsumer: (kind, ssrc) => kind === 'audio' && probe.consumer(i, ssrc),
		})));
		const target = new FleetTarget(targets, roundRobin(2));
		const windows: ReturnType<LatencyProbe['window']>[] = [];
		try {
			const result = await runLoad(target, sink, pacer, {
				scenario: {
					name: 'broadcast', describe: 'one publisher, four listeners',
					step: () => [{ room: 'probe', publish: ['audio', 'video'], subscribe: false }, ...Array.from({ length: 4 }, () => ({ room: 'probe', publish: [] as const, subscribe: true }))],
				},
				maxSteps: 1, settleSeconds: 1, windowSeconds: 2, timeoutSeconds: 60, targetCpu: 0.8, concurrency: 5, maxLoss: 0.02,
				log: () => windows.push(probe.window(2, 2)),
			});
			const [only] = result.steps;
			expect(only!.consumers).toBe(8);
			// The publisher on the first target, the listeners alternately on the second and the first.
			expect(only!.perWorker).toEqual([{ subscribers: 2, consumers: 4 }, { subscribers: 2, consumers: 4 }]);
			expect(windows).toHaveLength(1);
			for (const latency of windows[0]!) {
				// 50 audio packets a second to each of two listeners, over 2 s.
				expect(latency!.samples).toBeGreaterThan(100);
				expect(latency!.p50).toBeGreaterThan(0);
				expect(latency!.p50).toBeLessThan(100);
			}
		} finally {
			pacer.close();
			await target.close();
			sink.close();
		}
	}, 60_000);
});
