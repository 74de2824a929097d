// parley dev: the page. Plain JavaScript, no build step, no external assets.
// It talks to parley dev only: /api/ (the page's own API), /sim/<platform>/_sim/
// (the emulators' control endpoints) and /bot/admin/v1/ (the bot's admin API).
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  let data = null;
  const text = await res.text();
  try { data = text ? JSON.parse(text) : null; } catch { data = { error: text.trim() }; }
  if (!res.ok) {
    const msg = (data && (data.error && (data.error.detail || data.error.message || data.error))) || data?.message || res.statusText;
    throw new Error(typeof msg === "string" ? msg : JSON.stringify(msg));
  }
  return data;
}

const fmtTime = (t) => {
  const d = new Date(t);
  return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
};
const fmtDur = (ns) => {
  if (!ns) return "";
  const ms = ns / 1e6;
  if (ms < 1) return "<1ms";
  if (ms < 1000) return Math.round(ms) + "ms";
  return (ms / 1000).toFixed(ms < 10000 ? 1 : 0) + "s";
};
const short = (s, n = 10) => (s && s.length > n ? s.slice(0, n) + "…" : s || "");

let state = {};

// ---------- sections (phone) and tabs ----------

function showSection(name) {
  for (const b of $$(".sections button")) b.setAttribute("aria-pressed", String(b.dataset.section === name));
  for (const p of $$(".grid > .panel")) p.classList.toggle("shown", p.id === name);
}
$$(".sections button").forEach((b) => b.addEventListener("click", () => showSection(b.dataset.section)));
showSection("play");

function setupTabs(list, onSelect) {
  const tabs = $$("[role=tab]", list);
  const select = (tab, focus) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $("#" + t.getAttribute("aria-controls")).hidden = !on;
    }
    if (focus) tab.focus();
    onSelect && onSelect(tab.id.replace(/^tab-/, ""));
  };
  tabs.forEach((t, i) => {
    t.addEventListener("click", () => select(t));
    t.addEventListener("keydown", (e) => {
      const d = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
      if (d) { e.preventDefault(); select(tabs[(i + d + tabs.length) % tabs.length], true); }
    });
  });
  return select;
}

let playTab = "sendbee";
setupTabs($("#play .tabs"), (name) => {
  playTab = name;
  const r = $("input[name=fault-p][value=" + name + "]");
  if (r && !r.checked) { r.checked = true; updateFaultButtons(); }
  pollPlay();
});
let opTab = "dead";
setupTabs($("#side .tabs"), (name) => { opTab = name; refreshOperate(); });

// ---------- Sendbee: the customer's WhatsApp chat and the dashboard ----------

const sb = { conv: null, sig: "" };

function sbConversation(convs) {
  const phone = $("#sb-phone").value.trim();
  return convs.find((c) => c.contact && c.contact.phone === phone) || null;
}

function renderSendbee(convs) {
  const c = sbConversation(convs);
  sb.conv = c;
  const sig = JSON.stringify(c && [c.id, c.chatbot_active, c.messages.map((m) => m.id + m.status)]);
  if (sig === sb.sig) return;
  sb.sig = sig;
  const chat = $("#sb-chat");
  const stick = chat.scrollTop + chat.clientHeight >= chat.scrollHeight - 30;
  chat.replaceChildren();
  if (!c) {
    chat.append(el("li", { class: "sysline" }, "No conversation yet: send a message as the customer."));
  } else {
    for (const m of c.messages) {
      const inbound = m.direction === "inbound";
      const from = inbound ? null : m.source === "agent" ? "agent " + (m.agent_name || "") : m.source === "demo" ? "earlier" : "bot";
      chat.append(el("li", {
        class: "msg" + (inbound ? " me" : "") + (m.source === "agent" ? " agent" : "") + (m.source === "demo" ? " demo" : ""),
        "data-id": m.id, "data-dir": m.direction, "data-source": m.source,
      },
      from && el("div", { class: "from" }, from),
      el("div", { class: "body" }, m.body || (m.media_url ? "[" + (m.media_type || "media") + "] " + m.media_url : "")),
      el("div", { class: "meta" }, fmtTime(m.sent_at), !inbound && m.status ? el("span", { title: m.status }, m.status === "read" ? "✓✓" : m.status === "failed" ? "⚠" : "✓") : null)));
    }
  }
  if (stick) chat.scrollTop = chat.scrollHeight;
  const on = c ? c.chatbot_active : true;
  $("#sb-chatbot").checked = on;
  $("#sb-chatbot").disabled = !c;
  $("#sb-chatbot-state").textContent = c ? (on ? "on" : "off — a human answers") : "on (new conversations)";
}

$("#sb-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("#sb-text").value;
  if (!text.trim()) return;
  try {
    await api("POST", "/sim/sendbee/_sim/customer", { phone: $("#sb-phone").value.trim(), name: "Customer", text });
    $("#sb-text").value = "";
  } catch (err) { toast("Sendbee: " + err.message); }
  pollPlay();
});
$("#sb-chatbot").addEventListener("change", async (e) => {
  if (!sb.conv) return;
  try {
    await api("POST", "/sim/sendbee/_sim/chatbot", { conversation_id: sb.conv.id, active: e.target.checked });
  } catch (err) { toast("Sendbee: " + err.message); }
  pollPlay();
});
$("#sb-agent-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!sb.conv) { toast("Write as the customer first: there is no conversation yet."); return; }
  try {
    await api("POST", "/sim/sendbee/_sim/agent", { conversation_id: sb.conv.id, agent: "", text: $("#sb-agent-text").value });
    $("#sb-agent-text").value = "";
  } catch (err) { toast("Sendbee: " + err.message); }
  pollPlay();
});
$("#sb-phone").addEventListener("change", () => { sb.sig = ""; pollPlay(); });

// ---------- VelaFlows: the inbox ----------

const vf = { conv: null, sig: "" };

function renderVelaflows(convs) {
  const who = $("#vf-contact").value.trim();
  const mine = convs.filter((c) => c.contactPhone === who || c.contactEmail === who);
  const c = mine.sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1))[0] || null;
  vf.conv = c;
  const sig = JSON.stringify(c && [c._id, c.status, c.assignedAgentId, c.messages.map((m) => m._id)]);
  if (sig === vf.sig) return;
  vf.sig = sig;
  const st = $("#vf-status");
  st.textContent = c ? c.status + (c.assignedAgentId ? " · " + (c.assignedAgentName || c.assignedAgentId) : " · unassigned") : "";
  st.className = "pill " + (!c ? "" : c.assignedAgentId ? "pill-wait" : c.status === "closed" ? "" : "pill-ok");
  const chat = $("#vf-chat");
  chat.replaceChildren();
  if (!c) chat.append(el("li", { class: "sysline" }, "No conversation yet: write as the customer."));
  else for (const m of c.messages) {
    const inbound = m.direction === "inbound";
    chat.append(el("li", { class: "msg" + (inbound ? " me" : "") + (m.senderType === "agent" && m.senderName ? " agent" : ""), "data-id": m._id, "data-dir": m.direction },
      !inbound && el("div", { class: "from" }, m.senderName ? m.senderName + " (" + m.senderType + ")" : "bot (API)"),
      el("div", { class: "body" }, m.text),
      el("div", { class: "meta" }, fmtTime(m.createdAt))));
  }
  chat.scrollTop = chat.scrollHeight;
  for (const id of ["#vf-assign", "#vf-unassign", "#vf-close"]) $(id).disabled = !c;
}

$("#vf-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const contact = $("#vf-contact").value.trim();
  try {
    await api("POST", "/sim/velaflows/_sim/customer", {
      channelType: contact.includes("@") ? "email" : "whatsapp", name: "Customer", contact, text: $("#vf-text").value,
    });
    $("#vf-text").value = "";
  } catch (err) { toast("VelaFlows: " + err.message); }
  pollPlay();
});
const vfAction = (op, extra = {}) => async () => {
  if (!vf.conv) return;
  try { await api("POST", "/sim/velaflows/_sim/" + op, { conversationId: vf.conv._id, ...extra }); } catch (err) { toast("VelaFlows: " + err.message); }
  pollPlay();
};
$("#vf-assign").addEventListener("click", () => vfAction("assign", { agent: $("#vf-agent").value.trim() })());
$("#vf-unassign").addEventListener("click", vfAction("unassign"));
$("#vf-close").addEventListener("click", vfAction("close"));
$("#vf-contact").addEventListener("change", () => { vf.sig = ""; pollPlay(); });

// ---------- Flowdock: the flow, threads, private chats ----------

const fd = { users: {}, bot: 0, thread: "", sig: "" };

async function loadFlowdockInfo() {
  try {
    const info = await api("GET", "/sim/flowdock/_sim/info");
    fd.bot = info.bot.id;
    for (const u of info.users) fd.users[u.id] = u.nick;
    const sel = $("#fd-user");
    sel.replaceChildren(...(state.flowdock_users || []).map((n) => el("option", { value: n }, n)));
  } catch (err) { toast("Flowdock: " + err.message); }
}

function renderFlowdock(msgs) {
  const sig = JSON.stringify([$("#fd-where").value, $("#fd-user").value, msgs.map((m) => m.id), fd.thread]);
  if (sig === fd.sig) return;
  fd.sig = sig;
  const chat = $("#fd-chat");
  chat.replaceChildren();
  const shown = msgs.filter((m) => m.event === "message" || m.event === "comment" || m.event === "activity" || m.event === "discussion");
  if (!shown.length) chat.append(el("li", { class: "sysline" }, "Nothing here yet: post as a team member."));
  const firstOfThread = {};
  for (const m of shown) {
    const isBot = m.user === fd.bot || m.user === 0;
    const threaded = m.thread_id && firstOfThread[m.thread_id];
    if (m.thread_id && !firstOfThread[m.thread_id]) firstOfThread[m.thread_id] = m.id;
    chat.append(el("li", { class: "msg" + (threaded ? " threaded" : "") + (isBot ? "" : " me"), "data-id": m.id, "data-dir": isBot ? "outbound" : "inbound" },
      el("div", { class: "from" }, isBot ? (m.user === 0 ? "integration" : "bot") : fd.users[m.user] || "user " + m.user,
        m.event !== "message" ? " · " + m.event : ""),
      el("div", { class: "body" }, m.title ? m.title + (m.content ? " — " + m.content : "") : m.content),
      el("div", { class: "meta" }, fmtTime(m.sent),
        m.thread_id && $("#fd-where").value === "flow" && el("button", {
          type: "button", class: "btn btn-ghost btn-small", title: "Reply in this thread",
          onclick: () => { fd.thread = m.thread_id; $("#fd-thread-id").textContent = short(m.thread_id, 12); $("#fd-thread").hidden = false; $("#fd-text").focus(); },
        }, "↩ thread"))));
  }
  chat.scrollTop = chat.scrollHeight;
}

$("#fd-thread-clear").addEventListener("click", () => { fd.thread = ""; $("#fd-thread").hidden = true; });
$("#fd-where").addEventListener("change", () => { fd.thread = ""; $("#fd-thread").hidden = true; pollPlay(); });
$("#fd-user").addEventListener("change", pollPlay);
$("#fd-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const user = $("#fd-user").value, text = $("#fd-text").value;
  try {
    if ($("#fd-where").value === "private") await api("POST", "/sim/flowdock/_sim/private", { user, text });
    else await api("POST", "/sim/flowdock/_sim/post", { flow: state.flowdock_flow, user, text, thread_id: fd.thread || undefined });
    $("#fd-text").value = "";
  } catch (err) { toast("Flowdock: " + err.message); }
  pollPlay();
});

// ---------- polling the emulator of the tab shown ----------

let polling = false;
async function pollPlay() {
  if (polling) return;
  polling = true;
  try {
    if (playTab === "sendbee") renderSendbee(await api("GET", "/sim/sendbee/_sim/conversations"));
    else if (playTab === "velaflows") {
      const d = await api("GET", "/sim/velaflows/_sim/conversations");
      renderVelaflows(d.data || d); // VelaFlows answers in its envelope
    }
    else {
      const q = $("#fd-where").value === "private" ? "user=" + encodeURIComponent($("#fd-user").value) : "flow=" + encodeURIComponent(state.flowdock_flow);
      renderFlowdock(await api("GET", "/sim/flowdock/_sim/messages?" + q));
    }
  } catch (err) { /* parley dev went away: the status pill says so */ }
  polling = false;
}

// ---------- the timeline ----------

const tl = { groups: new Map(), keys: new Map(), order: [], filter: "", seq: 0 };
// The timeline keeps the newest TL_LIMIT entries: a page left open on a
// busy bot must not grow without end.
const TL_LIMIT = 500;

function forgetOldest() {
  while (tl.order.length > TL_LIMIT) {
    const id = tl.order.shift();
    const g = tl.groups.get(id);
    tl.groups.delete(id);
    if (g && g.dom) g.dom.remove();
    for (const [k, v] of tl.keys) if (v === id) tl.keys.delete(k);
  }
}

// what each event type looks like: icon, tone and a line
const STEP = {
  received: (e) => ["↓", "info", "received" + (e.kind && e.kind !== "message" ? " (" + e.kind + ")" : "")],
  duplicate: () => ["≡", "warn", "duplicate: acknowledged and dropped"],
  owner: (e) => ["◎", e.owner === "human" ? "warn" : "", "owner: " + e.owner + (e.reason ? " (" + e.reason + ")" : "")],
  routed: (e) => ["→", "ok", "matched " + (e.route || "a route"), e.reason],
  unrouted: () => ["∅", "", "no rule matched"],
  handled: (e) => e.error ? ["✕", "bad", "handler failed", e.error] : ["✓", "", "handled"],
  queued: (e) => ["⋯", "", "reply queued", e.key],
  waiting: (e) => ["◔", "warn", "waiting " + fmtDur(e.duration) + " for the rate limit"],
  retry: (e) => ["↻", "warn", "attempt " + e.attempt + " failed; retry in " + fmtDur(e.duration), e.error],
  sent: (e) => ["✓", "ok", "reply sent", e.key],
  confirmed: (e) => ["✓", "ok", "found on the platform, not sent again", e.key],
  skipped: (e) => ["⤼", "", "not queued: sent before", e.key],
  suppressed: (e) => ["⊘", "warn", "suppressed: a human owns the conversation", e.key],
  dead_lettered: (e) => ["✕", "bad", "dead-lettered after " + e.attempt + (e.attempt === 1 ? " attempt" : " attempts") + " (letter " + e.reason + ")", e.error],
  replayed: (e) => ["↺", "info", "dead letter " + e.reason + " replayed", e.key],
  owner_changed: (e) => ["⇄", "info", "owner now " + e.owner, e.reason],
  job_fired: (e) => e.error ? ["✕", "bad", "job " + e.job + " failed" + (e.reason ? " (" + e.reason + ")" : ""), e.error]
    : ["◷", "ok", "job " + e.job + " ran" + (e.reason ? " (" + e.reason + ")" : ""), "in " + fmtDur(e.duration)],
  connected: (e) => ["≈", "ok", "the bot's " + e.platform + " stream is connected"],
  disconnected: (e) => ["≉", "warn", "the bot's " + e.platform + " stream closed; it reconnects", e.error],
  flow_step: (e) => ["▸", "info", "flow " + e.flow + (e.step ? " → step " + e.step : " ended"), e.reason],
  dropped: (e) => ["!", "bad", "the page missed " + e.dropped + " events (it did not keep up)"],
};

function noteStep(n) {
  if (n.type === "delivery") {
    const what = (n.redelivery ? "webhook redelivered (copy " + n.copy + ")" : n.copy ? "webhook duplicate " + n.copy : "webhook delivered") + (n.attempt > 1 ? ", attempt " + n.attempt : "");
    return n.ok ? ["⇣", "", what + " → " + n.status] : ["⇣", "bad", what + " failed" + (n.status ? " → " + n.status : ""), n.detail];
  }
  if (n.type === "fault") return ["↯", "warn", n.platform + ": " + n.detail];
  return ["≈", n.ok ? "ok" : "warn", n.detail];
}

function groupFor(e, fromDev) {
  let id;
  if (e.message) id = e.platform + "|" + e.message;
  else if (e.key && tl.keys.has(e.key)) id = tl.keys.get(e.key);
  else if (e.key) id = "key|" + e.key;
  else id = (fromDev ? "note|" : "ev|") + (e.seq || Math.random());
  if (e.key && e.message) tl.keys.set(e.key, id);
  let g = tl.groups.get(id);
  if (!g) {
    g = { id, platform: e.platform || "", conversation: e.conversation || "", message: e.message || "", key: e.key || "", time: e.time, steps: [], text: null, dom: null };
    if (!e.message && !e.key) g.solo = true;
    tl.groups.set(id, g);
    tl.order.push(id);
    forgetOldest();
    if (g.message && (g.platform === "sendbee" || g.platform === "velaflows" || g.platform === "flowdock")) fetchText(g);
  }
  if (!g.conversation && e.conversation) g.conversation = e.conversation;
  return g;
}

async function fetchText(g) {
  for (let i = 0; i < 3 && g.text == null; i++) {
    try {
      const d = await api("GET", "/api/inspect?platform=" + encodeURIComponent(g.platform) + "&message=" + encodeURIComponent(g.message));
      g.inspect = d;
      g.text = (d.message ? d.message.Text : d.raw && d.raw.content) || "";
      renderGroup(g);
      return;
    } catch { await new Promise((r) => setTimeout(r, 400)); }
  }
}

function addEvent(e, fromDev) {
  if (!fromDev && e.seq) tl.seq = Math.max(tl.seq, e.seq);
  if (!fromDev && e.text && !e.key) { /* the bot shares text */ }
  const g = groupFor(e, fromDev);
  if (!fromDev && e.text && g.text == null && e.type === "received") g.text = e.text;
  if (!fromDev && e.type === "received" && e.kind && e.kind !== "message") g.kind = e.kind;
  const [ico, tone, what, why] = fromDev ? noteStep(e) : (STEP[e.type] || (() => ["·", "", e.type]))(e);
  g.steps.push({ type: fromDev ? "note-" + e.type : e.type, ico, tone, what, why, time: e.time, raw: e, dev: fromDev });
  renderGroup(g, true);
  if (e.type === "dead_lettered" || e.type === "replayed") refreshDead();
  if (e.type === "owner_changed" || e.type === "received") scheduleOperate();
}

function summaryTags(g) {
  const n = (t) => g.steps.filter((s) => s.type === t).length;
  const tags = [];
  const sent = n("sent") + n("confirmed");
  if (sent) tags.push(["tag-ok", sent === 1 ? "1 reply sent" : sent + " replies sent"]);
  const dups = n("duplicate");
  if (dups) tags.push(["tag-warn", dups === 1 ? "1 duplicate" : dups + " duplicates"]);
  const retries = n("retry");
  if (retries) tags.push(["tag-warn", retries === 1 ? "1 retry" : retries + " retries"]);
  const sup = n("suppressed");
  if (sup) tags.push(["tag-warn", sup + " suppressed"]);
  const dead = n("dead_lettered");
  if (dead) tags.push(["tag-bad", dead + " dead-lettered"]);
  const owner = g.steps.find((s) => s.type === "owner");
  if (owner && owner.raw.owner === "human" && !sent) tags.push(["tag-warn", "bot quiet: a human owns it"]);
  else if (n("unrouted")) tags.push(["tag", "no rule"]);
  const routes = g.steps.filter((s) => s.type === "routed");
  // The innermost route that said why; a rules file's rule is named
  // rule "<name>" (line <n>).
  const route = routes.findLast((s) => s.raw.reason) || routes[routes.length - 1];
  if (route && (route.raw.reason || sent)) {
    const rule = /^rule "([^"]+)"/.exec(route.raw.route || "");
    tags.push(["tag-info", rule ? "rule " + rule[1] : route.raw.route]);
  }
  return tags;
}

function renderGroup(g, fresh) {
  const li = g.dom || el("li", { class: "tl-item", tabindex: "0", role: "button", "aria-label": "Show details" });
  if (!g.dom) {
    g.dom = li;
    li.addEventListener("click", () => openDetail(g));
    li.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); openDetail(g); } });
    $("#tl").prepend(li);
    $("#tl-empty").hidden = true;
  }
  li.dataset.platform = g.platform;
  li.dataset.message = g.message;
  const first = g.steps[0];
  const head = el("div", { class: "tl-head" },
    el("span", { class: "plat plat-" + (g.platform || "dev") }, g.platform || "bot"),
    g.solo ? el("span", { class: "tl-solo " + (first ? first.tone : "") }, el("span", { class: "ico", "aria-hidden": "true" }, first ? first.ico : ""), " ", first ? first.what : "",
      first && first.why ? el("span", { class: "why" }, " — " + first.why) : null)
      : g.message ? el("span", { class: "tl-text" + (g.text && !g.kind ? "" : " none") }, g.kind === "ownership" ? "the platform says who answers" : g.kind === "status" ? "delivery status " + (g.text || "") : g.text ? "“" + g.text + "”" : g.kind ? g.kind + " event" : "message " + short(g.message, 14))
      : el("span", { class: "tl-text none" }, /^cron:rulefile:([^:]+)/.test(g.key) ? "a message of job " + /^cron:rulefile:([^:]+)/.exec(g.key)[1] : "outbound " + short(g.key, 24)),
    g.conversation && el("span", { class: "muted small mono", title: g.conversation }, short(g.conversation, 12)),
    el("span", { class: "time" }, fmtTime(g.time)));
  const tags = summaryTags(g);
  // Routes that matched without a reason (middleware, observers) are one
  // line: the route that says why it matched stands out.
  const shownSteps = [];
  for (const s of g.steps) {
    const prev = shownSteps[shownSteps.length - 1];
    if (s.type === "routed" && !s.why && prev && prev.type === "routed" && !prev.why) {
      if (!prev.merged) prev.merged = { ...prev, routes: [prev.raw.route] };
      shownSteps[shownSteps.length - 1] = prev.merged;
      prev.merged.routes.push(s.raw.route);
      prev.merged.what = "matched " + [...new Set(prev.merged.routes)].join(", ") + (prev.merged.routes.length > new Set(prev.merged.routes).size ? " (" + prev.merged.routes.length + " routes)" : "");
      continue;
    }
    shownSteps.push({ ...s });
  }
  const steps = g.solo && g.steps.length === 1 ? null : el("ol", { class: "steps" }, shownSteps.map((s) =>
    el("li", { class: "step " + s.tone, "data-type": s.type },
      el("span", { class: "ico", "aria-hidden": "true" }, s.ico),
      el("span", { class: "what" }, s.what, s.why ? el("span", { class: "why" }, " — " + s.why) : null),
      el("span", { class: "dt" }, s.raw.duration && s.type !== "waiting" && s.type !== "retry" ? fmtDur(s.raw.duration) : ""))));
  li.dataset.kind = g.solo && first ? first.type : "message";
  li.replaceChildren(...[head, tags.length ? el("div", { class: "summary" }, tags.map(([c, t]) => el("span", { class: "tag " + c }, t))) : null, steps].filter(Boolean));
  if (fresh) { li.classList.remove("fresh"); void li.offsetWidth; li.classList.add("fresh"); }
  applyFilter(li, g);
  const shown = [...tl.groups.values()].filter((x) => x.dom && !x.dom.hidden).length;
  $("#tl-count").textContent = shown + (shown === 1 ? " entry" : " entries");
}

function applyFilter(li, g) {
  const f = tl.filter;
  if (g.kind === "status" && !$("#tl-status").checked) { li.hidden = true; return; }
  li.hidden = !!f && !((g.text || "") + " " + g.platform + " " + g.conversation + " " + g.steps.map((s) => s.what + " " + (s.why || "")).join(" ")).toLowerCase().includes(f);
}
$("#tl-filter").addEventListener("input", (e) => {
  tl.filter = e.target.value.trim().toLowerCase();
  for (const g of tl.groups.values()) if (g.dom) applyFilter(g.dom, g);
});
$("#tl-status").addEventListener("change", () => {
  for (const g of tl.groups.values()) if (g.dom) applyFilter(g.dom, g);
});
$("#tl-clear").addEventListener("click", () => {
  tl.groups.clear(); tl.keys.clear(); tl.order = [];
  $("#tl").replaceChildren(); $("#tl-empty").hidden = false; $("#tl-count").textContent = "";
});

async function openDetail(g) {
  const body = $("#detail-body");
  $("#detail-h").textContent = g.message ? g.platform + " message " + short(g.message, 24) : g.solo ? "Event" : "Outbound " + g.key;
  const pre = (v) => el("pre", { class: "code", tabindex: "0" }, typeof v === "string" ? v : JSON.stringify(v, null, 2));
  body.replaceChildren(el("p", { class: "muted" }, "loading…"));
  $("#detail").showModal();
  let ins = g.inspect;
  if (g.message && !ins) {
    try { ins = g.inspect = await api("GET", "/api/inspect?platform=" + encodeURIComponent(g.platform) + "&message=" + encodeURIComponent(g.message)); }
    catch (err) { ins = { error: err.message }; }
  }
  const parts = [];
  if (ins) {
    const msg = ins.message ? { ...ins.message } : null;
    if (msg && msg.Raw) msg.Raw = "(the raw payload, left)";
    parts.push(el("div", { class: "cols" },
      el("div", {}, el("h3", {}, "Platform payload"), ins.raw ? pre(ins.raw) : el("p", { class: "muted" }, ins.error || "none")),
      el("div", {}, el("h3", {}, "bot.Message"), msg ? pre(msg) : el("p", { class: "muted" }, ins.error || ins.note || "none"))));
  }
  parts.push(el("h3", {}, "Events"), pre(g.steps.map((s) => s.raw)));
  body.replaceChildren(...parts);
}

// ---------- the feeds ----------

const EVENT_TYPES = Object.keys(STEP);
let botFeed = null;

function connectBot() {
  if (botFeed) botFeed.close();
  botFeed = new EventSource("/bot/admin/v1/events");
  for (const t of EVENT_TYPES) botFeed.addEventListener(t, (m) => { try { addEvent(JSON.parse(m.data), false); } catch { } });
  botFeed.addEventListener("dropped", (m) => { try { addEvent({ type: "dropped", ...JSON.parse(m.data) }, false); } catch { } });
  botFeed.onopen = () => setBot(true);
  botFeed.onerror = () => setBot(false);
}

let botUp = null;
function setBot(up) {
  if (up === botUp) return;
  botUp = up;
  const p = $("#bot-status");
  p.className = "pill " + (up ? "pill-ok" : "pill-bad");
  p.textContent = up ? "bot connected" : "bot not reachable";
  p.title = up ? "following the event feed of " + state.bot : "no answer from the admin API at " + state.bot + ": start the bot (Setup)";
  $("#tl-empty").textContent = up
    ? "Nothing yet. Write as a customer on the left: each message and what the bot did with it show here, newest first. Click one for the raw payload."
    : "No bot answers at " + state.bot + ". Start one in another terminal with the lines under Setup (top right), for example go run ./examples/supportbot; the page connects by itself.";
  $("#setup-open").classList.toggle("btn-primary", !up);
  if (up) refreshOperate();
}

function connectNotes() {
  const src = new EventSource("/api/notes");
  src.addEventListener("note", (m) => { try { addEvent(JSON.parse(m.data), true); } catch { } });
}

// ---------- break things ----------

function faultPlatform() { return $("input[name=fault-p]:checked").value; }
function updateFaultButtons() {
  const p = faultPlatform();
  $("[data-redeliver]").disabled = p === "flowdock";
  $("[data-fault=drop]").disabled = p !== "flowdock";
  $("[data-fault=stall]").textContent = p === "flowdock" ? "Stall stream 8s" : "Stall 8s";
}
$$("input[name=fault-p]").forEach((r) => r.addEventListener("change", updateFaultButtons));
updateFaultButtons();
$$("[data-fault]").forEach((b) => b.addEventListener("click", async () => {
  try {
    const r = await api("POST", "/api/fault", { platform: faultPlatform(), fault: b.dataset.fault });
    $("#fault-result").textContent = faultPlatform() + ": " + r.detail + ".";
  } catch (err) { $("#fault-result").textContent = err.message; }
}));
$("[data-redeliver]").addEventListener("click", async (e) => {
  const copies = Number(e.currentTarget.dataset.redeliver);
  try {
    await api("POST", "/api/redeliver", { platform: faultPlatform(), copies });
    $("#fault-result").textContent = "The last " + faultPlatform() + " webhook was delivered " + copies + " more times (" + (copies + 1) + " in all): the bot answers once.";
  } catch (err) { $("#fault-result").textContent = err.message; }
});

// ---------- operate ----------

const A = "/bot/admin/v1";
const none = (text) => el("li", { class: "none" }, text);

async function refreshDead() {
  const ul = $("#dead");
  try {
    const d = await api("GET", A + "/dead-letters");
    $("#dead-count").textContent = d.total ? String(d.total) : "";
    ul.replaceChildren(...(d.dead_letters.length ? d.dead_letters.map((l) => el("li", { "data-id": l.id },
      el("div", { class: "line" },
        el("span", { class: "plat plat-" + l.platform }, l.platform),
        el("span", { class: "grow" }, el("b", {}, "letter " + l.id), l.text ? " “" + l.text + "”" : ""),
        el("button", { class: "btn btn-small", type: "button", onclick: () => letter(l.id, "POST", "/replay") }, "Replay"),
        el("button", { class: "btn btn-small btn-danger", type: "button", onclick: () => letter(l.id, "DELETE", "") }, "Discard")),
      el("div", { class: "err" }, l.error),
      el("div", { class: "muted small mono", title: l.key }, l.attempts + (l.attempts === 1 ? " attempt" : " attempts") + " · " + fmtTime(l.time) + " · " + short(l.key, 30))))
      : [none("No dead letters. To make one: Next send → 400 above, then write as the customer.")]));
  } catch (err) { ul.replaceChildren(none(err.message)); }
}
async function letter(id, method, suffix) {
  try { await api(method, A + "/dead-letters/" + encodeURIComponent(id) + suffix); } catch (err) { toast(err.message); }
  refreshDead();
}

async function refreshConvs() {
  const ul = $("#convs");
  try {
    const d = await api("GET", A + "/conversations");
    ul.replaceChildren(...(d.conversations.length ? d.conversations.map((c) => {
      const human = c.owner === "human";
      const path = A + "/conversations/" + encodeURIComponent(c.platform) + "/" + encodeURIComponent(c.conversation);
      return el("li", { "data-conversation": c.conversation },
        el("div", { class: "line" },
          el("span", { class: "plat plat-" + c.platform }, c.platform),
          el("span", { class: "grow mono", title: c.conversation }, short(c.conversation, 24)),
          el("span", { class: "tag " + (human ? "tag-warn" : "tag-ok") }, human ? "human" : c.owner || "bot"),
          el("button", { class: "btn btn-small", type: "button", onclick: async () => {
            try { await api("POST", path + (human ? "/resume" : "/handoff")); } catch (err) { toast(err.message); }
            refreshConvs();
          } }, human ? "Resume" : "Handoff")),
        el("div", { class: "muted small" }, "last " + fmtTime(c.last_activity) + " · " + ["received", "sent", "duplicate", "dead_lettered"].filter((k) => (c.events || {})[k]).map((k) => c.events[k] + " " + k.replace("_", "-")).join(" · ")));
    }) : [none("No conversations seen yet.")]));
  } catch (err) { ul.replaceChildren(none(err.message)); }
}

async function refreshJobs() {
  const ul = $("#jobs");
  try {
    const d = await api("GET", A + "/jobs");
    ul.replaceChildren(...(d.jobs.length ? d.jobs.map((j) => el("li", {},
      el("span", { class: "grow" }, el("b", {}, j.name), el("div", { class: "muted small mono" }, j.spec + (j.next ? " · next " + new Date(j.next).toLocaleString() : ""))),
      el("button", { class: "btn btn-small", type: "button", onclick: async (e) => {
        const b = e.currentTarget; b.disabled = true;
        try { const r = await api("POST", A + "/jobs/" + encodeURIComponent(j.name) + "/run"); toast("job " + j.name + " ran in " + fmtDur(r.duration)); }
        catch (err) { toast("job " + j.name + ": " + err.message); }
        b.disabled = false;
      } }, "Run now"))) : [none("The bot has no scheduled jobs.")]));
  } catch (err) { ul.replaceChildren(none(err.message)); }
}

async function refreshRules() {
  const ol = $("#rules");
  try {
    const d = await api("GET", A + "/rules");
    ol.replaceChildren(...(d.routes.length ? d.routes.map((r) => el("li", {},
      el("span", { class: "grow" }, el("span", { class: "mono" }, r.usage || r.name || r.rule), r.description ? el("div", { class: "muted small" }, r.description) : null),
      r.priority ? el("span", { class: "tag" }, "priority " + r.priority) : null)) : [none("No routes.")]));
  } catch (err) { ol.replaceChildren(none(err.message)); }
}

let explainTimer = 0;
async function explain() {
  const text = $("#explain-text").value;
  const ol = $("#explain");
  if (!text.trim()) { ol.replaceChildren(); return; }
  try {
    const d = await api("POST", A + "/explain", { text, platform: $("#explain-platform").value });
    ol.replaceChildren(...d.rules.map((r) => el("li", { class: r.runs ? "runs" : r.result === "error" ? "error" : "" },
      el("b", {}, (r.flow ? "flow " : r.fallback && r.rule !== "fallback" ? "fallback " : "") + r.rule + (r.step ? " (step " + r.step + ")" : "")), " ",
      el("span", { class: "tag " + (r.runs ? "tag-ok" : r.result === "error" ? "tag-bad" : "") }, r.runs ? "runs" : r.result),
      r.decided_by ? el("div", { class: "small" }, "decided by ", el("code", {}, r.decided_by)) : null,
      r.error ? el("div", { class: "err small" }, r.error) : null,
      (r.actions || []).map((a) => el("div", { class: "act small" }, a.kind + ": " + a.detail)))));
  } catch (err) { ol.replaceChildren(el("li", { class: "error" }, err.message)); }
}
$("#explain-text").addEventListener("input", () => { clearTimeout(explainTimer); explainTimer = setTimeout(explain, 250); });
$("#explain-platform").addEventListener("change", explain);
$("#explain-form").addEventListener("submit", (e) => { e.preventDefault(); explain(); });

function refreshOperate() {
  refreshDead();
  if (opTab === "convs") refreshConvs();
  if (opTab === "jobs") refreshJobs();
  if (opTab === "rules") refreshRules();
}
let opTimer = 0;
function scheduleOperate() { clearTimeout(opTimer); opTimer = setTimeout(refreshOperate, 300); }

// ---------- setup, toasts, start ----------

function toast(text) {
  $("#fault-result").textContent = text;
  const p = $("#bot-status");
  p.title = text;
}

$("#setup-open").addEventListener("click", () => $("#setup").showModal());
$("#copy-exports").addEventListener("click", async () => {
  try { await navigator.clipboard.writeText(state.exports); $("#copied").textContent = "copied"; }
  catch { const r = document.createRange(); r.selectNodeContents($("#exports")); getSelection().removeAllRanges(); getSelection().addRange(r); $("#copied").textContent = "selected: press Ctrl+C"; }
});

document.addEventListener("keydown", (e) => {
  if (e.target.matches("input, select, textarea") || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === "/") { e.preventDefault(); const f = { sendbee: "#sb-text", velaflows: "#vf-text", flowdock: "#fd-text" }[playTab]; $(f).focus(); }
});

async function start() {
  state = await api("GET", "/api/state");
  $("#exports").textContent = state.exports;
  $("#mode").textContent = state.rules ? "running " + state.rules : "bot at " + state.bot;
  $("#setup-admin").textContent = "The page follows the bot's admin API at " + state.bot + " (PARLEY_ADMIN_ADDR, else PARLEY_ADDR). Sendbee delivers to " + state.sendbee_webhook + ", VelaFlows to " + state.velaflows_webhook + ".";
  await loadFlowdockInfo();
  connectBot();
  connectNotes();
  pollPlay();
  setInterval(() => { if (!document.hidden) pollPlay(); }, 700);
  setInterval(() => { if (!document.hidden && botUp) refreshOperate(); }, 5000);
}
start();
