import { screenshotPath, type Participant } from './browser';

/** Signs in through the /signin page of the node at `url` (an account made with the API helper); lands on `next`. */
export async function signInThroughPage(p: Participant, url: string, handle: string, next: string): Promise<void> {
	await p.page.goto(`${url}/signin?next=${encodeURIComponent(next)}`);
	await p.page.fill('input[name="handle"]', handle);
	await p.page.fill('input[name="password"]', `pw-${handle}-secret`);
	await p.page.click('#signin button[type="submit"]');
	await p.page.waitForURL(`${url}${next}`);
}

/** The page's account connection is up: calls ring here. */
export async function online(p: Participant, timeout = 15000): Promise<void> {
	await p.page.waitForSelector('body[data-phone="online"]', { state: 'attached', timeout });
}

/** From the directory of the node at `url`: search, open the profile, press a Call button; the outgoing screen shows. */
export async function callFromDirectory(caller: Participant, url: string, handle: string, button: '#call-video' | '#call-audio'): Promise<void> {
	await caller.page.fill('#search input[name="q"]', handle);
	await caller.page.click('#search button[type="submit"]');
	await caller.page.click(`#result-list li[data-handle="${handle}"] a`);
	await caller.page.waitForURL(`${url}/u/${handle}`);
	await online(caller);
	await caller.page.waitForSelector(`${button}:not([disabled])`);
	await caller.page.screenshot({ path: screenshotPath(`call-profile-${handle}.png`) });
	await caller.page.click(button);
	await caller.page.waitForSelector('#outgoing', { state: 'visible' });
}
