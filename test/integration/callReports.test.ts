import { api, callable, device, signup, type TestAccount } from '../helpers/accounts';
import { metricValue } from '../helpers/metrics';
import { startTestNode, type TestNode } from '../helpers/node';
import type { SignalingClient } from '../helpers/signalingClient';

const ADMIN = 'admin-token-for-tests-0123456789abcdef';

// Spam reports (docs/http-api.md, Reports): a report blocks at once, and
// counts only against an account that rang the reporter; enough of them
// within the window hold the account to the people who vouch for it (have
// it as a contact or follow it). It can tell none of it from an ordinary
// denial. New accounts may be held the same way for their first hours.
describe('spam reports and new accounts', () => {
	const clients: SignalingClient[] = [];
	afterEach(() => clients.splice(0).forEach((c) => c.disconnect()));

	describe('reports', () => {
		let node: TestNode;
		beforeAll(async () => {
			node = await startTestNode({
				media: { workers: 1 },
				auth: { adminToken: ADMIN },
				accounts: { signupsPerHour: 10_000, loginsPerMinute: 10_000 },
				calls: { invitesPerMinute: 1000, unansweredPerDay: 1000, reportsBeforeCoolDown: 2, reportWindowHours: 24 },
			});
		});
		afterAll(() => node.close());

		const metric = async (series: string) => metricValue(await (await fetch(`${node.url}/metrics`)).text(), series) ?? 0;
		const invite = async (from: SignalingClient, to: TestAccount) => from.requestRaw('call.invite', { to: [to.handle], media: 'audio' });

		/** `caller` rings `callee` (online), and the callee's device sees it; the caller cancels. */
		async function ringsAndCancels(caller: SignalingClient, callee: TestAccount, calleeDevice: SignalingClient): Promise<void> {
			const reply = await invite(caller, callee) as { ok: boolean; data?: { callId: string } };
			expect(reply).toMatchObject({ ok: true, data: { invited: { [callee.handle]: 'ringing' } } });
			await calleeDevice.waitFor('call.incoming', (e) => e.callId === reply.data!.callId);
			await caller.request('call.cancel', { callId: reply.data!.callId });
		}

		test('a report blocks at once; it counts only from someone the account rang; two put it in the cool-down, which it cannot tell from any denial; the metric and the operators\' list', async () => {
			const spammer = await signup(node, 'spammer');
			const [ann, ben, bystander] = [await callable(node, 'ann'), await callable(node, 'ben'), await callable(node, 'bystander')];
			const friend = await signup(node, 'friend');
			await api(node, friend.token, 'PUT', `/api/me/contacts/${spammer.handle}`);
			const offline = await callable(node, 'offline');
			const spam = await device(node, spammer, clients);
			const [annDevice, benDevice, bystanderDevice, friendDevice] = [
				await device(node, ann, clients), await device(node, ben, clients), await device(node, bystander, clients), await device(node, friend, clients),
			];
			const counted = { yes: await metric('switchyard_call_reports_total{counted="true"}'), no: await metric('switchyard_call_reports_total{counted="false"}') };

			// Ann is rung, and reports from the incoming screen: her ringing stops, the spammer is blocked.
			const ringing = await spam.request('call.invite', { to: [ann.handle], media: 'video' });
			await annDevice.waitFor('call.incoming', (e) => e.callId === ringing.callId);
			expect((await api(node, ann.token, 'POST', `/api/me/reports/${spammer.handle}`)).status).toBe(204);
			await annDevice.waitFor('call.cancelled', (e) => e.callId === ringing.callId);
			expect((await api(node, ann.token, 'GET', '/api/me/blocks')).body.users.map((u: { handle: string }) => u.handle)).toEqual([spammer.handle]);
			expect(await invite(spam, ann)).toMatchObject({ ok: false, error: { code: 'unavailable' } });
			await spam.request('call.cancel', { callId: ringing.callId });

			// The bystander was never rung: the report blocks, but does not count.
			expect((await api(node, bystander.token, 'POST', `/api/me/reports/${spammer.handle}`)).status).toBe(204);
			expect((await api(node, bystander.token, 'DELETE', `/api/me/blocks/${spammer.handle}`)).status).toBe(204);
			await ringsAndCancels(spam, bystander, bystanderDevice);

			// Ben is rung and reports: two counted reports, the cool-down.
			await ringsAndCancels(spam, ben, benDevice);
			expect((await api(node, ben.token, 'POST', `/api/me/reports/${spammer.handle}`)).status).toBe(204);
			expect({ yes: await metric('switchyard_call_reports_total{counted="true"}'), no: await metric('switchyard_call_reports_total{counted="false"}') })
				.toEqual({ yes: counted.yes + 2, no: counted.no + 1 });

			// Everyone would let it ring the bystander; now only those who vouch for it (the friend) ring.
			const held = await metric('switchyard_call_invites_restricted_total{reason="reported"}');
			const refused = await invite(spam, bystander);
			const denied = await invite(spam, offline);
			expect(refused).toEqual(denied);
			expect(refused).toMatchObject({ ok: false, error: { code: 'unavailable' } });
			// Both were held (the offline one would have been let ring, had it been online).
			expect(await metric('switchyard_call_invites_restricted_total{reason="reported"}')).toBe(held + 2);
			await ringsAndCancels(spam, friend, friendDevice);
			expect(bystanderDevice.events.filter((e) => e.name === 'call.incoming')).toHaveLength(1);

			// The operators' list: the reported account, counts only; no reporter.
			const list = await api(node, ADMIN, 'GET', '/api/admin/reports');
			expect(list.status).toBe(200);
			expect(list.body.accounts).toEqual([{ handle: spammer.handle, reports: 2, lastReportAt: expect.any(String), coolingDown: true }]);
			expect(JSON.stringify(list.body)).not.toMatch(/ann|ben|bystander/);
			expect((await api(node, ADMIN, 'GET', '/api/admin/reports?hours=1&limit=5')).body.accounts).toEqual([expect.objectContaining({ handle: spammer.handle, coolingDown: false })]);
		});

		test('bad requests get typed errors and change nothing', async () => {
			const who = await callable(node, 'reporter');
			const results: [string, number, string | undefined][] = [];
			for (const [token, path] of [
				[who.token, '/api/me/reports/NOT%20A%20HANDLE'],
				[who.token, `/api/me/reports/${who.handle}`],
				[undefined, '/api/me/reports/spammer'],
				['not-a-token', '/api/me/reports/spammer'],
				[who.token, '/api/admin/reports'],
				[undefined, '/api/admin/reports'],
				[ADMIN, '/api/admin/reports?hours=0'],
				[ADMIN, '/api/admin/reports?limit=9999'],
				[ADMIN, '/api/admin/reports?sort=x'],
			] as const) {
				const res = await api(node, token, path.startsWith('/api/me') ? 'POST' : 'GET', path);
				results.push([path, res.status, res.body?.error?.code]);
			}
			expect(results.map(([, status, code]) => [status, code])).toEqual([
				[400, 'validation_failed'], [400, 'validation_failed'], [401, 'unauthorized'], [401, 'unauthorized'],
				[401, 'unauthorized'], [401, 'unauthorized'], [400, 'validation_failed'], [400, 'validation_failed'], [400, 'validation_failed'],
			]);
			// A handle no account has: the same 204 as any other.
			expect((await api(node, who.token, 'POST', '/api/me/reports/nobody_has_this')).status).toBe(204);
		});
	});

	describe('new accounts (calls.newAccountHours)', () => {
		let node: TestNode;
		beforeAll(async () => {
			node = await startTestNode({ media: { workers: 1 }, calls: { invitesPerMinute: 1000, unansweredPerDay: 1000, newAccountHours: 24 } });
		});
		afterAll(() => node.close());

		test('for its first hours a new account rings only those who vouch for it; to the others it looks like any denial', async () => {
			const fresh = await signup(node, 'fresh');
			const [open, vouching, offline] = [await callable(node, 'open'), await callable(node, 'vouching'), await callable(node, 'gone')];
			await api(node, vouching.token, 'PUT', `/api/me/follows/${fresh.handle}`);
			const freshDevice = await device(node, fresh, clients);
			const [openDevice, vouchingDevice] = [await device(node, open, clients), await device(node, vouching, clients)];
			const before = metricValue(await (await fetch(`${node.url}/metrics`)).text(), 'switchyard_call_invites_restricted_total{reason="newAccount"}') ?? 0;

			const toOpen = await freshDevice.requestRaw('call.invite', { to: [open.handle], media: 'audio' });
			expect(toOpen).toEqual(await freshDevice.requestRaw('call.invite', { to: [offline.handle], media: 'audio' }));
			expect(toOpen).toMatchObject({ ok: false, error: { code: 'unavailable' } });
			const rung = await freshDevice.request('call.invite', { to: [vouching.handle], media: 'audio' });
			await vouchingDevice.waitFor('call.incoming', (e) => e.callId === rung.callId);
			expect(openDevice.events.filter((e) => e.name === 'call.incoming')).toEqual([]);
			expect(metricValue(await (await fetch(`${node.url}/metrics`)).text(), 'switchyard_call_invites_restricted_total{reason="newAccount"}')).toBe(before + 2);
		});
	});
});
