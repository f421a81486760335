import { callable, signup } from '../helpers/accounts';
import { pollUntil } from '../helpers/poll';
import { newParticipant, type Participant } from './browser';
import { callFromDirectory, online, signInThroughPage } from './pages';
import { browserSuite } from './suite';

type Shown = { title: string; body: string; closed: boolean };
type System = { shown: Shown[]; asked: number; background(on: boolean): void; click(index: number): void };
const system = (p: Participant) => p.page.evaluate(() => {
	const s = (globalThis as unknown as { __system: System }).__system;
	return { shown: s.shown.map((n) => ({ ...n })), asked: s.asked };
});
const background = (p: Participant, on: boolean) => p.page.evaluate((value) => (globalThis as unknown as { __system: System }).__system.background(value), on);

/**
 * Stands in for the operating system around the page: records the page's
 * notifications (still passing them to the real Notification), counts
 * permission requests, and sends the page to the background or the front as
 * switching tabs would: headless chromium keeps every page visible and
 * focused, so the test sets what the page reads (visibilityState, hasFocus)
 * and fires the events the browser would.
 */
function theSystem(): void {
	// NOTE: the page's own types, as far as this uses them (the tests compile without the DOM library).
	type Permission = 'default' | 'granted' | 'denied';
	type PageNotification = EventTarget & { close(): void };
	type NotificationClass = (new (title: string, options?: { body?: string }) => PageNotification)
		& { readonly permission: Permission; requestPermission(): Promise<Permission> };
	type PageDocument = EventTarget & { hasFocus(): boolean };
	const w = globalThis as unknown as Record<string, unknown> & EventTarget & { Notification: NotificationClass; document: PageDocument };
	const Real = w.Notification;
	const instances: PageNotification[] = [];
	const system = { shown: [] as Shown[], asked: 0, background(on: boolean) {
		inBackground = on;
		w.document.dispatchEvent(new Event('visibilitychange'));
		w.dispatchEvent(new Event(on ? 'blur' : 'focus'));
	}, click(index: number) {
		instances[index]!.dispatchEvent(new Event('click'));
	} };
	let inBackground = false;
	class Recorded extends Real {
		readonly record: Shown;
		constructor(title: string, options?: { body?: string }) {
			super(title, options);
			this.record = { title, body: options?.body ?? '', closed: false };
			system.shown.push(this.record);
			instances.push(this);
		}

		override close(): void {
			this.record.closed = true;
			super.close();
		}

		static override get permission(): Permission {
			return Real.permission;
		}

		static override requestPermission(): Promise<Permission> {
			system.asked += 1;
			return Real.requestPermission();
		}
	}
	w.Notification = Recorded;
	Object.defineProperty(w.document, 'visibilityState', { get: () => (inBackground ? 'hidden' : 'visible') });
	Object.defineProperty(w.document, 'hidden', { get: () => inBackground });
	w.document.hasFocus = () => !inBackground;
	w.__system = system;
}

describe('incoming calls as system notifications while the page is in the background', () => {
	const suite = browserSuite({ calls: { invitesPerMinute: 100 } });
	const { open, reported } = suite;

	async function person(name: string, { granted }: { granted: boolean }): Promise<Participant> {
		const p = await newParticipant(suite.browser, name);
		open.push(p);
		if (granted) {
			await p.context.grantPermissions(['notifications'], { origin: suite.node.url });
		}
		await p.context.addInitScript(theSystem);
		return p;
	}

	/** `caller` rings `callee` (signed in on /history, online) from its profile page. */
	async function ring(caller: Participant, callerHandle: string, callee: Participant, calleeHandle: string): Promise<void> {
		await signup(suite.node, callerHandle, caller.name);
		await callable(suite.node, calleeHandle, callee.name);
		await signInThroughPage(callee, suite.node.url, calleeHandle, '/history');
		await online(callee);
		await signInThroughPage(caller, suite.node.url, callerHandle, '/directory?w=320&h=180');
	}

	test('in the background a call raises a notification, and it closes when the caller cancels', reported(async () => {
		const ada = await person('Ada', { granted: false });
		const bob = await person('Bob', { granted: true });
		await ring(ada, 'ada_n1', bob, 'bob_n1');
		await background(bob, true);
		await callFromDirectory(ada, suite.node.url, 'bob_n1', '#call-audio');
		await bob.page.waitForSelector('#incoming', { state: 'visible', timeout: 10_000 });
		await pollUntil('Bob\'s notification', async () => (await system(bob)).shown.length === 1 || undefined);
		expect((await system(bob)).shown).toEqual([{ title: 'Ada is calling', body: '@ada_n1 · audio call', closed: false }]);

		await ada.page.click('#cancel');
		await pollUntil('the notification to close', async () => (await system(bob)).shown[0]?.closed || undefined);
		expect(await bob.page.isHidden('#incoming')).toBe(true);
		expect((await system(bob)).shown).toHaveLength(1);
	}));

	test('in front, no notification; to the background while ringing, one; to the front, it goes; clicking one brings the screen', reported(async () => {
		const cy = await person('Cy', { granted: false });
		const di = await person('Di', { granted: true });
		await ring(cy, 'cy_n2', di, 'di_n2');
		await callFromDirectory(cy, suite.node.url, 'di_n2', '#call-video');
		await di.page.waitForSelector('#incoming', { state: 'visible', timeout: 10_000 });
		expect((await system(di)).shown).toEqual([]);

		await background(di, true);
		expect((await system(di)).shown).toEqual([{ title: 'Cy is calling', body: '@cy_n2 · video call', closed: false }]);
		await background(di, false);
		expect((await system(di)).shown.map((n) => n.closed)).toEqual([true]);

		await background(di, true);
		await di.page.evaluate(() => (globalThis as unknown as { __system: System }).__system.click(1));
		expect((await system(di)).shown.map((n) => n.closed)).toEqual([true, true]);
		expect(await di.page.isVisible('#incoming')).toBe(true);
		await di.page.click('#decline');
		await cy.page.waitForSelector('#outgoing-close', { state: 'visible' });
		expect((await system(di)).shown).toHaveLength(2);
	}));

	test('permission is asked only when the person turns notifications on, never on load; "Not now" is remembered', reported(async () => {
		const ed = await person('Ed', { granted: false });
		await signup(suite.node, 'ed_n3', 'Ed');
		await signInThroughPage(ed, suite.node.url, 'ed_n3', '/history');
		await online(ed);
		await ed.page.waitForSelector('#notify-offer', { state: 'visible' });
		expect((await system(ed)).asked).toBe(0);
		await ed.page.click('#notify-later');
		expect(await ed.page.isHidden('#notify-offer')).toBe(true);
		await ed.page.reload();
		await online(ed);
		expect(await ed.page.isHidden('#notify-offer')).toBe(true);
		expect((await system(ed)).asked).toBe(0);

		await ed.page.evaluate(() => (globalThis as unknown as { localStorage: { removeItem(key: string): void } }).localStorage.removeItem('switchyard.callNotifications'));
		await ed.page.reload();
		await ed.page.click('#notify-on');
		expect((await system(ed)).asked).toBe(1);
		expect(await ed.page.isHidden('#notify-offer')).toBe(true);
	}));
});
