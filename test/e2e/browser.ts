import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const ARTIFACTS = path.resolve(__dirname, '..', '..', 'artifacts');

/** One headless Debian chromium with fake devices (never a downloaded browser). */
export async function launchBrowser(): Promise<Browser> {
	return chromium.launch({
		executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
		headless: true,
		args: [
			'--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--no-sandbox', '--disable-gpu',
			'--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
			'--disable-quic', '--autoplay-policy=no-user-gesture-required',
		],
	});
}

export type Participant = { name: string; context: BrowserContext; page: Page; console: string[] };

/** A participant: its own browser context, the room page open, console recorded. */
export async function openRoom(
	browser: Browser, url: string, room: string, name: string,
	{ size = { w: 320, h: 180 }, viewport = { width: 1280, height: 800 }, ignoreHTTPSErrors = false } = {},
): Promise<Participant> {
	const context = await browser.newContext({ viewport, ignoreHTTPSErrors });
	const page = await context.newPage();
	const console: string[] = [];
	page.on('console', (message) => console.push(`[${name}] ${message.type()}: ${message.text()}`));
	page.on('pageerror', (error) => console.push(`[${name}] pageerror: ${error.message}`));
	await page.goto(`${url}/room/${room}?name=${encodeURIComponent(name)}&w=${size.w}&h=${size.h}`);
	await page.waitForFunction(() => (globalThis as unknown as { switchyard?: { state: string } }).switchyard?.state === 'connected', undefined, { timeout: 30000 });
	return { name, context, page, console };
}

export type ConsumerStats = { consumerId: string; peerId: string; kind: 'audio' | 'video'; ssrc: number; bytesReceived: number; framesDecoded: number; frameWidth?: number; qualityLimitationReason?: string };

export function stats(participant: Participant): Promise<ConsumerStats[]> {
	return participant.page.evaluate(() => (globalThis as unknown as { switchyard: { stats(): Promise<ConsumerStats[]> } }).switchyard.stats());
}

/** On failure: each page's console and its quality limitation, so a red run says why. */
export async function report(participants: Participant[]): Promise<string> {
	const lines: string[] = [];
	for (const participant of participants) {
		lines.push(...participant.console.slice(-40));
		try {
			const outbound = await participant.page.evaluate(() => (globalThis as unknown as { switchyard: { outboundStats(): Promise<{ qualityLimitationReason?: string; rid?: string }[]> } }).switchyard.outboundStats());
			lines.push(`[${participant.name}] outbound qualityLimitationReason: ${outbound.map((s) => `${s.rid ?? '-'}=${s.qualityLimitationReason ?? '-'}`).join(' ')}`);
			lines.push(`[${participant.name}] inbound: ${JSON.stringify(await stats(participant))}`);
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
