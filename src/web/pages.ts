/** The web client's HTML pages: small, static shells; the room page loads the bundle. */

export function escapeHtml(text: string): string {
	return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function page(title: string, body: string, script?: string): string {
	return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<title>${escapeHtml(title)}</title>
<meta name="theme-color" content="#2e6be6">
<link rel="manifest" href="/assets/manifest.webmanifest">
<link rel="icon" href="/assets/icons/icon.svg" type="image/svg+xml">
<link rel="apple-touch-icon" href="/assets/icons/apple-touch-icon.png">
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
${body}
<div class="visually-hidden" id="announcer" aria-live="polite" aria-relevant="additions"></div>
${script ? `<script src="${script}" defer></script>\n<script src="/assets/pwa.js" defer></script>` : ''}
</body>
</html>
`;
}

/** GET /: a name and a room; the form goes to /room?name=&room=, which redirects to the room. */
export function lobbyPage(): string {
	return page('Switchyard', `<main class="lobby">
	<h1>Switchyard</h1>
	<p class="tagline">Group video calls, straight from the browser.</p>
	<form class="card" method="get" action="/room" id="lobby">
		<label>Your name <input name="name" required maxlength="64" autocomplete="nickname" placeholder="Ada"></label>
		<label>Room <input name="room" required maxlength="64" pattern="[A-Za-z0-9_.\\-]+" placeholder="standup"></label>
		<label class="check"><input type="checkbox" name="e2ee" id="e2ee-choice"> End-to-end encrypted <small>(a new secret link: only people with it can join)</small></label>
		<button type="submit">Join</button>
	</form>
	<p class="switch">Call people by their handle: <a href="/signin">Sign in</a> or <a href="/signup">create an account</a>.</p>
</main>`, '/assets/lobby.js');
}

/** Inline icons of the call controls (no icon font, nothing fetched). */
const ICONS = {
	mic: '<rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5 11a7 7 0 0 0 14 0M12 18v3" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/>',
	camera: '<rect x="2" y="6" width="13" height="12" rx="2"/><path d="M16 10.5l6-3.5v10l-6-3.5z"/>',
	screen: '<rect x="3" y="4" width="18" height="12" rx="2" fill="none" stroke="currentColor" stroke-width="2"/><path d="M8 20h8M12 16v4M12 13V7M9 10l3-3 3 3" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/>',
	leave: '<path d="M2.5 14.5c5.2-5 13.8-5 19 0l-2.6 2.6-3.4-1.6v-2.8a11 11 0 0 0-7 0v2.8l-3.4 1.6z"/>',
	hand: '<path d="M8 11V5a1.5 1.5 0 0 1 3 0v5V3.5a1.5 1.5 0 0 1 3 0V10V5a1.5 1.5 0 0 1 3 0v9a7 7 0 0 1-7 7c-2.5 0-4-1.2-5.3-3.2L2.4 13a1.6 1.6 0 0 1 2.6-1.8L8 14z"/>',
	more: '<circle cx="5" cy="12" r="2"/><circle cx="12" cy="12" r="2"/><circle cx="19" cy="12" r="2"/>',
	chat: '<path d="M4 4h16a1 1 0 0 1 1 1v11a1 1 0 0 1-1 1H9l-5 4v-4H4a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1z"/>',
	slash: '<path class="slash" d="M4 4l16 16" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"/>',
};

function control(id: string, icon: keyof typeof ICONS, label: string, title: string, extra = ''): string {
	const slash = id === 'mute' || id === 'camera' ? ICONS.slash : '';
	return `<button id="${id}" type="button" title="${title}"${extra}><svg viewBox="0 0 24 24" aria-hidden="true">${ICONS[icon]}${slash}</svg><span class="label">${label}</span></button>`;
}

/** GET /room/:roomId: the call's shell; the bundle (/assets/room.js) joins at once. */
export function roomPage(roomId: string): string {
	return page(`${roomId} - Switchyard`, roomMarkup(roomId, { home: '/', homeTitle: 'Lobby' }), '/assets/room.js');
}

/**
 * The room view's markup (bar, notice, grid, controls), which room.ts
 * expects: the room page's, and the in-call view of the calling pages.
 */
export function roomMarkup(roomId: string, { home, homeTitle }: { home: string; homeTitle: string }): string {
	return `<div class="room" id="app" data-room-id="${escapeHtml(roomId)}">
	<header class="bar">
		<a class="home" href="${escapeHtml(home)}" title="${escapeHtml(homeTitle)}">Switchyard</a>
		<span class="room-name">${escapeHtml(roomId)}</span>
		<span class="e2ee-badge" id="e2ee" hidden title="Only the people with this link can see and hear the call: the server forwards frames it cannot read"><svg viewBox="0 0 24 24" aria-hidden="true"><path d="M7 10V7a5 5 0 0 1 10 0v3h1a1 1 0 0 1 1 1v9a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1v-9a1 1 0 0 1 1-1zm2 0h6V7a3 3 0 0 0-6 0z"/></svg>End-to-end encrypted</span>
		<span class="safety" id="safety" hidden title="Compare this code with the others in the call (read it out, or look at their screen): the same code means no one swapped a key">Safety code <code id="safety-code"></code></span>
		<span class="status" id="status" data-state="connecting" role="status">connecting</span>
	</header>
	<p class="notice" id="notice" hidden></p>
	<p class="conn-banner" id="conn-banner" role="status" aria-live="polite" hidden></p>
	<main class="grid" id="grid" aria-label="Participants"></main>
	<nav class="controls" aria-label="Call controls">
		${control('mute', 'mic', 'Mute', 'Mute microphone', ' aria-pressed="false"')}
		${control('camera', 'camera', 'Cam off', 'Turn camera off', ' aria-pressed="false"')}
		${control('screen', 'screen', 'Share', 'Share your screen', ' aria-pressed="false"')}
		${control('hand', 'hand', 'Raise', 'Raise your hand', ' aria-pressed="false"')}
		${control('chat-toggle', 'chat', 'Chat', 'Open the chat', ' aria-pressed="false" hidden')}
		${control('more', 'more', 'More', 'People, view and devices', ' aria-pressed="false" aria-controls="more-panel"')}
		${control('leave', 'leave', 'Leave', 'Leave the call', ' class="danger"')}
	</nav>
	${morePanel()}
	<aside class="chat" id="chat" aria-label="Chat" hidden>
		<ol class="chat-log" id="chat-log" aria-live="polite"></ol>
		<p class="chat-problem" id="chat-problem" role="alert" hidden></p>
		<form class="chat-form" id="chat-form">
			<input id="chat-input" maxlength="2000" autocomplete="off" placeholder="Message everyone" aria-label="Message everyone">
			<button type="submit">Send</button>
		</form>
	</aside>
</div>`;
}

/**
 * The room view's keyboard shortcuts as the More panel lists them; the keys
 * themselves are in client/shortcutKeys.ts (test/unit/shortcutKeys.test.ts
 * holds the two lists together).
 */
const SHORTCUTS: [key: string, does: string][] = [
	['M', 'Mute or unmute the microphone'],
	['V', 'Turn the camera off or on'],
	['?', 'Show these shortcuts'],
	['Esc', 'Close the open panel (More, chat)'],
];

/** Behind the More button: the view toggle, the participant list, the device pickers (the bundle fills them) and the keyboard shortcuts. */
function morePanel(): string {
	const picker = (id: string, label: string) => `<label>${label} <select id="${id}" disabled></select></label>`;
	return `<aside class="more-panel" id="more-panel" aria-label="People, view and devices" hidden>
		<button type="button" class="quiet" id="view-toggle" aria-pressed="false">Speaker view</button>
		<h2 id="people-title">People</h2>
		<ul class="people-list" id="people-list" aria-labelledby="people-title"></ul>
		<h2>Devices</h2>
		<div class="devices">${picker('camera-select', 'Camera')}${picker('mic-select', 'Microphone')}${picker('speaker-select', 'Speaker')}</div>
		<p class="devices-problem" id="devices-problem" role="alert" hidden></p>
		<h2 id="shortcuts-title" tabindex="-1">Keyboard shortcuts</h2>
		<dl class="shortcuts" aria-labelledby="shortcuts-title">${SHORTCUTS.map(([key, does]) => `<div><dt><kbd>${key}</kbd></dt><dd>${does}</dd></div>`).join('')}</dl>
	</aside>`;
}

/**
 * What the service worker shows when a page cannot be fetched (the node or the
 * network is down): no script, so it works from the cache alone. "Try again"
 * reloads the address the person asked for.
 */
export function offlinePage(): string {
	return page('Offline - Switchyard', `<main class="lobby"><h1>You are offline</h1>
	<div class="card" role="alert"><p>Switchyard cannot reach its server. Calls need a connection: check your network, then try again.</p>
	<a class="button" href="">Try again</a></div></main>`);
}

/** The 503 page when dist/public has no bundle: says how to build it. */
export function unavailablePage(): string {
	return page('Switchyard', `<main class="lobby"><h1>Switchyard</h1>
	<p class="card">The web client is not built on this node. Run <code>npm run build</code> and restart it.</p></main>`);
}
