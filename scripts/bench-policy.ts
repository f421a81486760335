/**
 * What the bitrate and simulcast policy saves: the same browser session run
 * against a node with the policy on and with it off (every consumer at the
 * top layer, nothing paused, every encoding sent), interleaved on / off /
 * on / off because this machine's noise is large. It prints the bytes the
 * node received from publishers and forwarded to subscribers in each
 * measured window, and the ratios.
 *
 *   node --import tsx scripts/bench-policy.ts [--rounds 2] [--seconds 20] [--warmup 10] [--json]
 *
 * The session: one headless Debian chromium, one context per participant.
 * Two publishers send a 1280x720 fake camera (VP8, three simulcast layers)
 * and a microphone; two viewers send a 320x180 camera (one layer) and a
 * microphone. Windows: the publishers and one viewer at 1280x800 (four tiles
 * of about 620x350: the middle layer), the other viewer at 640x360
 * (thumbnails: the lowest layer). Numbers come from mediasoup's own
 * counters (producer and consumer getStats byteCount) in the node.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import type { RoomRegistry } from '../src/rooms';
import { launchBrowser, openRoom, type Participant } from '../test/e2e/browser';
import { startTestNode } from '../test/helpers/node';

const { values: args } = parseArgs({
	options: {
		rounds: { type: 'string', default: '2' },
		seconds: { type: 'string', default: '20' },
		warmup: { type: 'string', default: '10' },
		json: { type: 'boolean', default: false },
	},
});
const rounds = Math.min(10, Math.max(1, Number(args.rounds)));
const seconds = Math.min(300, Math.max(5, Number(args.seconds)));
const warmup = Math.min(120, Math.max(3, Number(args.warmup)));

type Counts = { received: number; forwarded: number; forwardedVideo: number };
type Run = { policy: 'on' | 'off'; receivedMbps: number; forwardedMbps: number; forwardedVideoMbps: number };

const PARTICIPANTS: { name: string; size: { w: number; h: number }; viewport: { width: number; height: number } }[] = [
	{ name: 'Publisher A', size: { w: 1280, h: 720 }, viewport: { width: 1280, height: 800 } },
	{ name: 'Publisher B', size: { w: 1280, h: 720 }, viewport: { width: 1280, height: 800 } },
	{ name: 'Viewer C', size: { w: 320, h: 180 }, viewport: { width: 1280, height: 800 } },
	{ name: 'Viewer D', size: { w: 320, h: 180 }, viewport: { width: 640, height: 360 } },
];

/** Bytes every producer received and every consumer sent so far, from mediasoup's counters. */
async function counts(registry: RoomRegistry, roomId: string): Promise<Counts> {
	const room = registry.get(roomId);
	const total: Counts = { received: 0, forwarded: 0, forwardedVideo: 0 };
	for (const peer of room?.peers.values() ?? []) {
		for (const producer of peer.producers.values()) {
			for (const stat of await producer.getStats().catch(() => [])) {
				total.received += stat.byteCount;
			}
		}
		for (const consumer of peer.consumers.values()) {
			for (const stat of await consumer.getStats().catch(() => [])) {
				if (stat.type === 'outbound-rtp') {
					total.forwarded += stat.byteCount;
					total.forwardedVideo += consumer.kind === 'video' ? stat.byteCount : 0;
				}
			}
		}
	}
	return total;
}

async function run(browser: Browser, policy: 'on' | 'off'): Promise<Run> {
	const node = await startTestNode({ media: { workers: 1 }, policy: { enabled: policy === 'on' } });
	const pages: Participant[] = [];
	try {
		for (const p of PARTICIPANTS) {
			pages.push(await openRoom(browser, node.url, 'bench', p.name, { size: p.size, viewport: p.viewport }));
		}
		await new Promise((resolve) => setTimeout(resolve, warmup * 1000));
		const before = await counts(node.registry, 'bench');
		await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
		const after = await counts(node.registry, 'bench');
		const mbps = (bytes: number) => (bytes * 8) / seconds / 1e6;
		return {
			policy,
			receivedMbps: mbps(after.received - before.received),
			forwardedMbps: mbps(after.forwarded - before.forwarded),
			forwardedVideoMbps: mbps(after.forwardedVideo - before.forwardedVideo),
		};
	} finally {
		for (const page of pages) {
			await page.context.close();
		}
		await node.close();
	}
}

async function main(): Promise<void> {
	execFileSync(process.execPath, [path.join(__dirname, 'build-client.mjs')], { stdio: 'ignore' });
	const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
	const header = `machine: ${os.cpus().length} x ${cpu}; load average at start ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`;
	const session = `session: ${PARTICIPANTS.map((p) => `${p.name} ${p.size.w}x${p.size.h} in ${p.viewport.width}x${p.viewport.height}`).join(', ')}; ${warmup} s warm-up, ${seconds} s measured, 1 worker`;
	if (!args.json) {
		console.log(header);
		console.log(session);
	}
	const browser = await launchBrowser();
	const runs: Run[] = [];
	try {
		for (let round = 0; round < rounds; round++) {
			for (const policy of ['on', 'off'] as const) {
				const result = await run(browser, policy);
				runs.push(result);
				if (!args.json) {
					console.log(`round ${round + 1} policy ${policy.padEnd(3)}: publishers -> node ${result.receivedMbps.toFixed(2)} Mbit/s, node -> subscribers ${result.forwardedMbps.toFixed(2)} Mbit/s (video ${result.forwardedVideoMbps.toFixed(2)})`);
				}
			}
		}
	} finally {
		await browser.close();
	}
	const mean = (policy: 'on' | 'off', key: keyof Omit<Run, 'policy'>) => {
		const of = runs.filter((r) => r.policy === policy);
		return of.reduce((sum, r) => sum + r[key], 0) / of.length;
	};
	const summary = {
		rounds, seconds,
		on: { receivedMbps: mean('on', 'receivedMbps'), forwardedMbps: mean('on', 'forwardedMbps') },
		off: { receivedMbps: mean('off', 'receivedMbps'), forwardedMbps: mean('off', 'forwardedMbps') },
		forwardedRatio: mean('on', 'forwardedMbps') / mean('off', 'forwardedMbps'),
		receivedRatio: mean('on', 'receivedMbps') / mean('off', 'receivedMbps'),
		runs,
	};
	if (args.json) {
		console.log(JSON.stringify(summary));
		return;
	}
	console.log(`mean forwarded: on ${summary.on.forwardedMbps.toFixed(2)} Mbit/s, off ${summary.off.forwardedMbps.toFixed(2)} Mbit/s: ratio on/off ${summary.forwardedRatio.toFixed(2)}`);
	console.log(`mean received from publishers: on ${summary.on.receivedMbps.toFixed(2)} Mbit/s, off ${summary.off.receivedMbps.toFixed(2)} Mbit/s: ratio on/off ${summary.receivedRatio.toFixed(2)}`);
}

main().then(() => process.exit(0), (error: unknown) => {
	console.error(error);
	process.exit(1);
});
