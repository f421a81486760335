/**
 * Soak: join / produce / consume / leave, over and over, on one node, and
 * check that nothing accumulates.
 *
 *   node --import tsx scripts/soak.ts [--cycles 1000] [--rss-growth-mb 40] [--json]
 *
 * Each cycle: two peers join a room, each creates a send and a receive
 * transport and produces audio and video (RTP parameters only), each
 * consumes the other's two producers, both leave. It prints mediasoup object
 * counts (which must be back to zero), RSS and event-loop lag at the start
 * (after a warm-up) and at the end, and fails when RSS grew by more than the
 * bound after the warm-up. Bounded in cycles and time (--timeout-seconds).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { poolObjects } from '../test/helpers/dump';
import { startTestNode } from '../test/helpers/node';
import { opusParameters, vp8Parameters } from '../test/helpers/rtp';
import { SignalingClient } from '../test/helpers/signalingClient';

export type SoakResult = {
	cycles: number;
	warmupCycles: number;
	seconds: number;
	objectsAtEnd: Awaited<ReturnType<typeof poolObjects>>;
	rssStartMb: number;
	rssEndMb: number;
	rssGrowthMb: number;
	lagStartMs: number;
	lagEndMs: number;
	workerRestarts: number;
	passed: boolean;
	bound: { rssGrowthMb: number };
};

/** Runs the soak in-process against a node of its own. */
export async function runSoak({ cycles, rssGrowthMb, timeoutSeconds = 1800 }: { cycles: number; rssGrowthMb: number; timeoutSeconds?: number }): Promise<SoakResult> {
	const node = await startTestNode({ media: { workers: 1 }, rooms: { emptyCloseGraceMs: 0, reconnectGraceMs: 0 }, log: { level: 'warn' } });
	const lag = monitorEventLoopDelay({ resolution: 10 });
	lag.enable();
	const deadline = Date.now() + timeoutSeconds * 1000;
	const warmupCycles = Math.min(50, Math.floor(cycles / 5));
	let rssStart = 0;
	let lagStart = 0;
	const started = Date.now();
	let done = 0;
	try {
		for (let cycle = 0; cycle < cycles && Date.now() < deadline; cycle++) {
			await oneCycle(node, cycle);
			done++;
			if (cycle + 1 === warmupCycles) {
				global.gc?.();
				rssStart = process.memoryUsage().rss;
				lagStart = lag.percentile(99) / 1e6;
				lag.reset();
			}
		}
		const deadlineForEmpty = Date.now() + 5000;
		while (node.registry.size > 0 && Date.now() < deadlineForEmpty) {
			await new Promise((resolve) => setTimeout(resolve, 20));
		}
		global.gc?.();
		const rssEnd = process.memoryUsage().rss;
		const objectsAtEnd = await poolObjects(node.pool);
		const rssGrowth = (rssEnd - rssStart) / 1e6;
		const empty = Object.values(objectsAtEnd).every((n) => n === 0);
		return {
			cycles: done,
			warmupCycles,
			seconds: (Date.now() - started) / 1000,
			objectsAtEnd,
			rssStartMb: rssStart / 1e6,
			rssEndMb: rssEnd / 1e6,
			rssGrowthMb: rssGrowth,
			lagStartMs: lagStart,
			lagEndMs: lag.percentile(99) / 1e6,
			workerRestarts: node.pool.restarts,
			passed: empty && rssGrowth <= rssGrowthMb && node.pool.restarts === 0 && done === cycles,
			bound: { rssGrowthMb },
		};
	} finally {
		lag.disable();
		await node.close();
	}
}

async function oneCycle(node: Awaited<ReturnType<typeof startTestNode>>, cycle: number): Promise<void> {
	const roomId = `soak-${cycle}`;
	const clients = await Promise.all(['a', 'b'].map(async (who) =>
		SignalingClient.connect(node.url, { token: await node.tokens.issue({ sub: `soak-${who}`, rooms: [roomId] }) })));
	try {
		let consumed = 0;
		for (const client of clients) {
			client.onConsumerNew(() => {
				consumed++;
			});
		}
		const { routerRtpCapabilities } = await clients[0]!.request('media.capabilities', {});
		for (const [i, client] of clients.entries()) {
			await client.request('room.join', { roomId, rtpCapabilities: routerRtpCapabilities as never });
			await client.request('transport.create', { direction: 'recv' });
			const send = await client.request('transport.create', { direction: 'send' });
			await client.request('producer.create', { transportId: send.id, kind: 'audio', rtpParameters: opusParameters(cycle * 10 + i) as never, source: 'mic' });
			await client.request('producer.create', { transportId: send.id, kind: 'video', rtpParameters: vp8Parameters(cycle * 10 + i + 5) as never, source: 'camera' });
		}
		const until = Date.now() + 5000;
		while (consumed < 4 && Date.now() < until) {
			await new Promise((resolve) => setTimeout(resolve, 5));
		}
		if (consumed < 4) {
			throw new Error(`cycle ${cycle}: ${consumed} of 4 consumers offered`);
		}
		for (const client of clients) {
			await client.request('room.leave', {});
		}
	} finally {
		clients.forEach((c) => c.disconnect());
	}
}

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			cycles: { type: 'string', default: '1000' },
			'rss-growth-mb': { type: 'string', default: '40' },
			'timeout-seconds': { type: 'string', default: '1800' },
			json: { type: 'boolean', default: false },
		},
	});
	const result = await runSoak({
		cycles: Math.min(100_000, Number(values.cycles)),
		rssGrowthMb: Number(values['rss-growth-mb']),
		timeoutSeconds: Number(values['timeout-seconds']),
	});
	if (values.json) {
		process.stdout.write(`${JSON.stringify(result)}\n`);
	} else {
		const o = result.objectsAtEnd;
		process.stdout.write([
			`cycles: ${result.cycles} in ${result.seconds.toFixed(1)} s (warm-up ${result.warmupCycles})`,
			`mediasoup objects at the end: routers ${o.routers}, transports ${o.transports}, webRtcTransports ${o.webRtcTransports}, producers ${o.producers}, consumers ${o.consumers}`,
			`RSS: ${result.rssStartMb.toFixed(1)} MB after warm-up -> ${result.rssEndMb.toFixed(1)} MB at the end (growth ${result.rssGrowthMb.toFixed(1)} MB, bound ${result.bound.rssGrowthMb} MB)`,
			`event-loop lag p99: ${result.lagStartMs.toFixed(1)} ms during warm-up -> ${result.lagEndMs.toFixed(1)} ms after`,
			`worker restarts: ${result.workerRestarts}`,
			result.passed ? 'PASS' : 'FAIL',
		].join('\n') + '\n');
	}
	process.exit(result.passed ? 0 : 1);
}

if (require.main === module) {
	main().catch((error: unknown) => {
		process.stderr.write(`soak: ${(error as Error).stack ?? String(error)}\n`);
		process.exit(1);
	});
}
