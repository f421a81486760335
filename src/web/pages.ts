/** The web client's HTML pages: small, static shells; the room page loads the bundle. */

function escapeHtml(text: string): string {
	return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function page(title: string, body: string, script?: string): string {
	return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
${body}
${script ? `<script src="${script}" defer></script>` : ''}
</body>
</html>
`;
}

export function lobbyPage(): string {
	return page('Switchyard', `<main class="lobby">
	<h1>Switchyard</h1>
	<p class="tagline">Group video calls, straight from the browser.</p>
	<form class="card" method="get" action="/room" id="lobby">
		<label>Your name <input name="name" required maxlength="64" autocomplete="nickname" placeholder="Ada"></label>
		<label>Room <input name="room" required maxlength="64" pattern="[A-Za-z0-9_.\\-]+" placeholder="standup"></label>
		<button type="submit">Join</button>
	</form>
</main>`);
}

export function roomPage(roomId: string): string {
	return page(`${roomId} - Switchyard`, `<div class="room" id="app" data-room-id="${escapeHtml(roomId)}">
	<header class="bar">
		<span class="room-name">${escapeHtml(roomId)}</span>
		<span class="status" id="status" data-state="connecting">connecting</span>
	</header>
	<main class="grid" id="grid" aria-live="polite"></main>
	<nav class="controls" aria-label="Call controls">
		<button id="mute" type="button" aria-pressed="false" title="Mute microphone">Mute</button>
		<button id="camera" type="button" aria-pressed="false" title="Turn camera off">Camera off</button>
		<button id="screen" type="button" aria-pressed="false" title="Share your screen">Share screen</button>
		<button id="leave" type="button" class="danger" title="Leave the call">Leave</button>
	</nav>
</div>`, '/assets/room.js');
}

export function unavailablePage(): string {
	return page('Switchyard', `<main class="lobby"><h1>Switchyard</h1>
	<p class="card">The web client is not built on this node. Run <code>npm run build</code> and restart it.</p></main>`);
}
