import { isTyping, SHORTCUTS, shortcutFor, type KeyPress, type KeyTarget } from '../../src/web/client/shortcutKeys';
import { roomMarkup } from '../../src/web/pages';

const key = (k: string, mods: Partial<KeyPress> = {}): KeyPress => ({ key: k, ctrlKey: false, metaKey: false, altKey: false, ...mods });
const body: KeyTarget = { tagName: 'BODY' };
const button: KeyTarget = { tagName: 'BUTTON' };

describe('the room view\'s keyboard shortcuts (shortcutKeys.ts)', () => {
	test.each([
		['m', body, 'mute'],
		['M', body, 'mute'],
		['v', body, 'camera'],
		['V', button, 'camera'],
		['?', body, 'help'],
		['Escape', body, 'close'],
		['x', body, undefined],
		['Enter', button, undefined],
		[' ', button, undefined],
	] as const)('%j on %j: %s', (k, target, expected) => {
		expect(shortcutFor(key(k), target)).toBe(expected);
	});

	test.each([
		[{ tagName: 'INPUT' }],
		[{ tagName: 'INPUT', type: 'text' }],
		[{ tagName: 'INPUT', type: 'search' }],
		[{ tagName: 'input', type: 'password' }],
		[{ tagName: 'TEXTAREA' }],
		[{ tagName: 'SELECT' }],
		[{ tagName: 'DIV', isContentEditable: true }],
	])('off while typing in %j, except Escape', (target) => {
		expect(isTyping(target)).toBe(true);
		for (const k of ['m', 'M', 'v', '?']) {
			expect(shortcutFor(key(k), target)).toBeUndefined();
		}
		expect(shortcutFor(key('Escape'), target)).toBe('close');
	});

	test.each([[{ tagName: 'INPUT', type: 'checkbox' }], [{ tagName: 'INPUT', type: 'radio' }], [{ tagName: 'INPUT', type: 'submit' }], [null]])('on %j a letter is a shortcut', (target) => {
		expect(isTyping(target)).toBe(false);
		expect(shortcutFor(key('m'), target)).toBe('mute');
	});

	test.each([{ ctrlKey: true }, { metaKey: true }, { altKey: true }, { repeat: true }])('not with %j (Ctrl+V pastes; a held key does not toggle on and off)', (mods) => {
		expect(shortcutFor(key('v', mods), body)).toBeUndefined();
		expect(shortcutFor(key('m', mods), body)).toBeUndefined();
	});

	test('the More panel lists every shortcut, in order', () => {
		const markup = roomMarkup('r', { home: '/', homeTitle: 'Lobby' });
		const listed = [...markup.matchAll(/<dt><kbd>([^<]+)<\/kbd><\/dt><dd>([^<]+)<\/dd>/g)].map((m) => ({ keys: m[1], does: m[2] }));
		expect(listed).toEqual(SHORTCUTS.map(({ keys, does }) => ({ keys, does })));
		// Every shortcut but Escape is one key that shortcutFor maps to it.
		for (const { keys, shortcut } of SHORTCUTS.filter((s) => s.keys !== 'Esc')) {
			expect(shortcutFor(key(keys), body)).toBe(shortcut);
		}
	});
});
