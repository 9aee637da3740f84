// The bot verdict of one request (module botDetection), shared by the router (tag/block, access record) and the
// loader (detection record). The score follows Stape's Bot Detection power-up: 0-100, higher is more bot-like,
// sent upstream as X-Device-Bot-Score beside X-Device-Bot: true|false.
// Signals, strongest first; the score is the highest any of them gives:
//   1. Cloudflare Bot Management (request.cf.botManagement, only on zones that have it): a verified bot is 100,
//      otherwise 100 - its score (Cloudflare's 1 = almost certainly a bot, 99 = almost certainly human);
//   2. the user agent: a client that names itself a bot, crawler, tool or headless browser (the isbot list), or
//      sends no User-Agent at all, is 100. Browsers always send one; a self-declared bot is never lying about it.
import { isbot } from "isbot";

export interface BotVerdict {
  bot: boolean;
  /** 0 (no sign of a bot) to 100 (certainly a bot). */
  score: number;
}

/**
 * A score above this is a bot. 70 puts Cloudflare's own "likely automated" band (scores 1-29) on the bot side and
 * keeps its "likely human" band (30-99) off it; a user-agent match is always 100.
 */
const BOT_THRESHOLD = 70;

const CERTAIN = 100;

/** Cloudflare's bot score as ours, or null when the zone has no Bot Management (or it scored nothing: 0). */
function cloudflareScore(request: Request): number | null {
  const management = (request.cf as { botManagement?: Partial<IncomingRequestCfPropertiesBotManagementBase> } | undefined)?.botManagement;
  if (management === undefined || management === null) return null;
  if (management.verifiedBot === true) return CERTAIN;
  const score = management.score;
  return typeof score === "number" && score >= 1 && score <= 99 ? CERTAIN - Math.round(score) : null;
}

/** Reads request.cf: call it only when the module is active (the parse is the largest cost a request can add). */
export function botVerdict(request: Request): BotVerdict {
  const fromCloudflare = cloudflareScore(request);
  if (fromCloudflare === CERTAIN) return { bot: true, score: CERTAIN };
  const userAgent = request.headers.get("User-Agent");
  const score = userAgent === null || userAgent.trim() === "" || isbot(userAgent) ? CERTAIN : (fromCloudflare ?? 0);
  return { bot: score > BOT_THRESHOLD, score };
}
