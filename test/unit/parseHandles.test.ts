import { MAX_INVITEES, parseHandles } from '../../src/web/client/accounts/handles';

// The web client's "Add by handle" and group-call fields: what people type, as call.invite's `to`.
describe('parseHandles', () => {
	test('commas, spaces and semicolons separate; a leading @ goes; lower-cased; each once', () => {
		expect(parseHandles(' @Gus, hal;ivy  @gus ,, ')).toEqual(['gus', 'hal', 'ivy']);
		expect(parseHandles('')).toEqual([]);
		expect(parseHandles(' , @ ')).toEqual([]);
	});

	test('at most as many as one invite takes', () => {
		expect(parseHandles(Array.from({ length: 20 }, (_, i) => `user_${i}`).join(','))).toHaveLength(MAX_INVITEES);
	});
});
