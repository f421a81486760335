import { PeerControls } from './PeerControls';

describe('PeerControls', () => {
	test('permit changes what it is given and answers what changed', () => {
		const controls = new PeerControls();
		expect(controls.permissions).toEqual({ canPublish: true, canSubscribe: true });
		expect(controls.permit({ canPublish: false })).toEqual({ canPublish: false });
		expect(controls.permit({ canPublish: false, canSubscribe: true })).toEqual({});
		expect(controls.permit({ canSubscribe: undefined })).toEqual({});
		expect(controls.permissions).toEqual({ canPublish: false, canSubscribe: true });
	});

	test.each([
		// muted, canPublish, paused: what producing and resuming the mic say
		[false, true, false, undefined, undefined],
		[true, true, false, 'muted_by_service', 'muted_by_service'],
		[true, true, true, undefined, 'muted_by_service'],
		[false, false, true, 'not_permitted', undefined],
		[true, false, false, 'not_permitted', 'muted_by_service'],
	])('muted %s, canPublish %s, produced paused %s: produce %s, resume %s', (muted, canPublish, paused, produce, resume) => {
		const controls = new PeerControls();
		expect(controls.setMuted('mic', muted)).toBe(muted);
		controls.permit({ canPublish });
		const code = (run: () => void) => {
			try {
				run();
				return undefined;
			} catch (error) {
				return (error as { code: string }).code;
			}
		};
		expect(code(() => controls.assertMayProduce('mic', paused))).toBe(produce);
		expect(code(() => controls.assertMayResume('mic'))).toBe(resume);
		// Another source is no matter.
		expect(code(() => controls.assertMayResume('camera'))).toBeUndefined();
	});
});
