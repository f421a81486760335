import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { E2eeReport, HookConsumer, InboundStats, LayoutReport, OutboundStats, SwitchyardHook, Viewport } from '../../src/web/client/hookTypes';
import { pollUntil } from '../helpers/poll';

export const ARTIFACTS = path.resolve(__dirname, '..', '..', 'artifacts');

/**
 * One headless Debian chromium with fake devices (never a downloaded browser).
 * `cameras`: how many fake cameras it lists (one by default).
 */
export async function launchBrowser({ cameras = 1 } = {}): Promise<Browser> {
	return chromium.launch({
		executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
		headless: true,
		args: [
			'--use-fake-ui-for-media-stream', cameras > 1 ? `--use-fake-device-for-media-stream=device-count=${cameras}` : '--use-fake-device-for-media-stream', '--no-sandbox', '--disable-gpu',
			'--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
			'--disable-quic', '--autoplay-policy=no-user-gesture-required',
		],
	});
}

export type Participant = { name: string; context: BrowserContext; page: Page; console: string[] };

export type ConsumerStats = InboundStats;

/** A participant: its own browser context and a blank page, console recorded. */
export async function newParticipant(
	browser: Browser, name: string,
	{ viewport = { width: 1280, height: 800 }, ignoreHTTPSErrors = false } = {},
): Promise<Participant> {
	const context = await browser.newContext({ viewport, ignoreHTTPSErrors });
	const page = await context.newPage();
	const console: string[] = [];
	page.on('console', (message) => console.push(`[${name}] ${message.type()}: ${message.text()}`));
	page.on('pageerror', (error) => console.push(`[${name}] pageerror: ${error.message}`));
	return { name, context, page, console };
}

/**
 * A participant: its own browser context, the room page open and connected,
 * console recorded. `e2ee`: the link's end-to-end encryption secret (its `#e2ee=` fragment).
 */
export async function openRoom(
	browser: Browser, url: string, room: string, name: string,
	{ size = { w: 320, h: 180 }, viewport = { width: 1280, height: 800 }, ignoreHTTPSErrors = false, e2ee = undefined as string | undefined, beforeOpen = undefined as ((page: Page) => void) | undefined } = {},
): Promise<Participant> {
	const participant = await newParticipant(browser, name, { viewport, ignoreHTTPSErrors });
	const { page, console } = participant;
	beforeOpen?.(page);
	const fragment = e2ee === undefined ? '' : `#e2ee=${encodeURIComponent(e2ee)}`;
	await page.goto(`${url}/room/${room}?name=${encodeURIComponent(name)}&w=${size.w}&h=${size.h}${fragment}`);
	try {
		await page.waitForFunction(() => (globalThis as unknown as { switchyard?: SwitchyardHook }).switchyard?.state === 'connected', undefined, { timeout: 30000 });
	} catch (error) {
		process.stderr.write(`${console.join('\n')}\n`);
		throw error;
	}
	return participant;
}

/** What the page's hook records: state, peer id, the events, recoveries and tile removals it saw. */
export function hook(p: Participant): Promise<Pick<SwitchyardHook, 'state' | 'states' | 'peerId' | 'events' | 'recoveries' | 'removedTiles'>> {
	return p.page.evaluate(() => {
		const h = (globalThis as unknown as { switchyard: SwitchyardHook }).switchyard;
		return { state: h.state, states: h.states, peerId: h.peerId, events: h.events, recoveries: h.recoveries, removedTiles: h.removedTiles };
	});
}

export function stats(p: Participant): Promise<InboundStats[]> {
	return p.page.evaluate(() => (globalThis as unknown as { switchyard: SwitchyardHook }).switchyard.stats());
}

export function outboundStats(p: Participant): Promise<OutboundStats[]> {
	return p.page.evaluate(() => (globalThis as unknown as { switchyard: SwitchyardHook }).switchyard.outboundStats());
}

export function consumers(p: Participant): Promise<HookConsumer[]> {
	return p.page.evaluate(() => (globalThis as unknown as { switchyard: SwitchyardHook }).switchyard.consumers());
}

export function transportIds(p: Participant): Promise<string[]> {
	return p.page.evaluate(() => (globalThis as unknown as { switchyard: SwitchyardHook }).switchyard.transportIds());
}

export function dropConnection(p: Participant, options: { keepTransports?: boolean } = {}): Promise<void> {
	return p.page.evaluate((o) => (globalThis as unknown as { switchyard: SwitchyardHook }).switchyard.dropConnection(o), options);
}

/**
 * Waits until `p` decodes video and receives audio from each of `peerIds`,
 * and then until every one of those consumers has grown again: media flows,
 * it was not a burst at setup.
 */
export async function receivesFrom(p: Participant, peerIds: string[], timeoutMs = 20000): Promise<void> {
	const progress = (s: InboundStats) => (s.kind === 'video' ? s.framesDecoded : s.bytesReceived);
	const first = await pollUntil(`${p.name} decodes video and audio from ${peerIds.length} peers`, async () => {
		const inbound = (await stats(p)).filter((s) => peerIds.includes(s.peerId) && s.source !== 'screen');
		const flowing = inbound.filter((s) => progress(s) > 0);
		const complete = peerIds.every((peerId) => ['video', 'audio'].every((kind) => flowing.some((s) => s.peerId === peerId && s.kind === kind)));
		return complete && flowing;
	}, { timeoutMs, intervalMs: 250 });
	await pollUntil(`${p.name}'s ${first.length} consumers keep growing`, async () => {
		const now = await stats(p);
		return first.every((before) => {
			const after = now.find((s) => s.consumerId === before.consumerId);
			return after !== undefined && progress(after) > progress(before);
		});
	}, { timeoutMs, intervalMs: 250 });
}

/** The page's end-to-end encryption: on or not, the consumers it cannot decrypt, each transform's counts. */
export function e2ee(p: Participant): Promise<E2eeReport> {
	return p.page.evaluate(() => (globalThis as unknown as { switchyard: SwitchyardHook }).switchyard.e2ee());
}

export function layout(p: Participant): Promise<LayoutReport> {
	return p.page.evaluate(() => (globalThis as unknown as { switchyard: SwitchyardHook }).switchyard.layout());
}

export function captureSize(p: Participant): Promise<{ width?: number; height?: number }> {
	return p.page.evaluate(() => (globalThis as unknown as { switchyard: SwitchyardHook }).switchyard.captureSize());
}

/** On failure: each page's console, its inbound media and its outbound quality limitation, so a red run says why. */
export async function report(participants: Participant[]): Promise<string> {
	const lines: string[] = [];
	for (const participant of participants) {
		lines.push(`--- ${participant.name}`, ...participant.console.slice(-40));
		try {
			const h = await hook(participant);
			lines.push(`[${participant.name}] peer ${h.peerId}, states ${h.states.join(' > ')}, recoveries ${JSON.stringify(h.recoveries)}`);
			for (const s of await stats(participant)) {
				lines.push(`[${participant.name}] inbound ${s.kind} from ${s.peerId} ssrc ${s.ssrc}: bytes ${s.bytesReceived}, frames decoded ${s.framesDecoded}, width ${s.frameWidth ?? '-'}, dropped ${s.framesDropped ?? '-'}, freezes ${s.freezeCount ?? '-'}, lost ${s.packetsLost ?? '-'}`);
			}
			const encryption = await e2ee(participant);
			if (encryption.enabled) {
				const { transforms, call, undecryptable } = encryption;
				lines.push(`[${participant.name}] e2ee undecryptable ${JSON.stringify(undecryptable)}, keys ${JSON.stringify(call ?? {})}`);
				lines.push(...transforms.map((t) => `[${participant.name}] e2ee transform ${JSON.stringify(t)}`));
			}
			const outbound = await outboundStats(participant);
			lines.push(`[${participant.name}] outbound qualityLimitationReason: ${outbound.map((s) => `${s.kind}/${s.rid ?? '-'}=${s.qualityLimitationReason ?? '-'} (${s.frameWidth ?? '-'}px)`).join(' ')}`);
		} catch (error) {
			lines.push(`[${participant.name}] (no stats: ${(error as Error).message})`);
		}
	}
	return lines.join('\n');
}

export function screenshotPath(name: string): string {
	fs.mkdirSync(ARTIFACTS, { recursive: true });
	return path.join(ARTIFACTS, name);
}

export function inboundBySsrc(p: Participant, ssrcs: number[]): Promise<{ ssrc: number; bytesReceived: number }[]> {
	return p.page.evaluate((s) => (globalThis as unknown as { switchyard: SwitchyardHook }).switchyard.inboundBySsrc(s), ssrcs);
}

export function remoteIceUfrags(p: Participant): Promise<(string | undefined)[]> {
	return p.page.evaluate(() => (globalThis as unknown as { switchyard: SwitchyardHook }).switchyard.remoteIceUfrags());
}

/** The receive transport's remote ICE candidates: the node (its media port) the page's media goes to. */
export function remoteCandidates(p: Participant): ReturnType<SwitchyardHook['remoteCandidates']> {
	return p.page.evaluate(() => (globalThis as unknown as { switchyard: SwitchyardHook }).switchyard.remoteCandidates());
}

/** The last viewport the page reported for each remote video (what the layer policy decides from). */
export function viewports(p: Participant): Promise<Viewport[]> {
	return p.page.evaluate(() => (globalThis as unknown as { switchyard: SwitchyardHook }).switchyard.viewports());
}

/** The page's outbound video encodings, lowest first (r0, r1, r2 of a simulcast camera). */
export async function videoEncodings(p: Participant): Promise<OutboundStats[]> {
	return (await outboundStats(p)).filter((s) => s.kind === 'video').sort((a, b) => (a.rid ?? '').localeCompare(b.rid ?? ''));
}

/** A test body that prints every page's console and media stats (`report`) when it fails. */
export function reportOnFailure(participants: Participant[], body: () => Promise<void>): () => Promise<void> {
	return async () => {
		try {
			await body();
		} catch (error) {
			process.stderr.write(`${await report(participants)}\n`);
			throw error;
		}
	};
}
