// 红帆 staff console: one more client of /graphql, with the caller's own role checks. No build
// step; every text from the API reaches the page through textContent, never as HTML.
"use strict";

const POLL_MS = 3000;
const $ = (selector) => document.querySelector(selector);

// Children may be nested lists, and false/null for "nothing here".
function nodes(children) {
  return children.flat(Infinity).filter((child) => child != null && child !== false)
    .map((child) => (child instanceof Node ? child : String(child)));
}

function fill(parent, ...children) {
  parent.replaceChildren(...nodes(children));
  return parent;
}

function h(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "className") node.className = value;
    else if (value !== false && value != null) node.setAttribute(key, value === true ? "" : value);
  }
  return fill(node, ...children);
}

const STATUS = {
  PENDING_DISPATCH: "待派单", DISPATCHED: "已派单", OPEN: "待抢单", ACCEPTED: "服务中",
  COMPLETED: "已完成", RATED: "已评价", CANCELLED: "已取消", ESCALATED: "已上报",
};
const ESCALATION_STATUS = { OPEN: "待受理", ACCEPTED: "处理中", RESOLVED: "已解决", RETURNED: "已退回", PASSED_ON: "已转区级" };
const ACTIONS = { PLACE: "下单", DISPATCH: "派单", PUBLISH: "发布抢单", TAKE: "接单", DECLINE: "拒单", COMPLETE: "完成", RATE: "评价", CANCEL: "取消" };
const time = (at) => (at ? new Date(at).toLocaleString("zh-CN", { hour12: false }) : "—");
const percent = (rate) => (rate == null ? "—" : `${(rate * 100).toFixed(1)}%`);

// ---- the session: kept for this tab only -------------------------------------------------
const session = {
  get: () => JSON.parse(sessionStorage.getItem("hongfan.session") || "null"),
  set: (payload) => sessionStorage.setItem("hongfan.session", JSON.stringify({
    accessToken: payload.accessToken, refreshToken: payload.refreshToken,
  })),
  clear: () => sessionStorage.removeItem("hongfan.session"),
};

class ApiError extends Error {
  constructor(error) { super(error.message); this.code = error.extensions && error.extensions.code; }
}

async function post(query, variables, token) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const body = await response.json();
  if (body.errors && body.errors.length) throw new ApiError(body.errors[0]);
  return body.data;
}

let refreshing = null;
async function gql(query, variables = {}) {
  const current = session.get();
  try {
    return await post(query, variables, current && current.accessToken);
  } catch (error) {
    if (error.code !== "UNAUTHENTICATED" || !current) throw error;
    // One refresh for every request that found the access token expired.
    refreshing = refreshing || post("mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }", { t: current.refreshToken })
      .then((data) => session.set(data.refreshSession))
      .finally(() => { refreshing = null; });
    try { await refreshing; } catch (_) { session.clear(); showLogin(); throw error; }
    return post(query, variables, session.get().accessToken);
  }
}

// ---- log-in: scan with the mini-program, or an openid in development ----------------------
let loginPoll = null;

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function newTicket() {
  const secret = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
  const challenge = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const data = await post("mutation($c: String!) { startConsoleLogin(challenge: $c) { ticket expiresAt qrCode } }", { c: challenge });
  return { ...data.startConsoleLogin, secret };
}

function showLogin() {
  clearInterval(loginPoll);
  stopPolling();
  $("#who").textContent = "";
  $("nav").replaceChildren();
  $("#logout").classList.add("hidden");
  const qr = h("div", { className: "qr" }, h("p", { className: "muted" }, "正在生成登录码…"));
  const error = h("p", { className: "error" });
  const openid = h("input", { type: "text", id: "openid", placeholder: "openid，如 demo-staff" });
  const byOpenid = async (value) => {
    try {
      const data = await post("mutation($c: String!) { loginWithWechat(code: $c) { accessToken refreshToken } }", { c: value });
      session.set(data.loginWithWechat);
      start();
    } catch (e) { error.textContent = e.message; }
  };
  const dev = h("div", { className: "panel hidden", id: "dev-login" },
    h("h3", {}, "开发模式登录"),
    h("p", { className: "muted" }, "未配置微信凭据：以 openid 登录演示账号。"),
    h("div", { className: "row" }, openid, " ", h("button", { id: "openid-login", onclick: () => byOpenid(openid.value.trim()) }, "登录")),
    h("div", { className: "accounts" }, ["demo-staff", "demo-street", "demo-department", "demo-admin", "demo-resident"]
      .map((account) => h("button", { className: "plain", onclick: () => byOpenid(account) }, account))),
    error);
  $("main").replaceChildren(h("div", { className: "login" },
    h("div", { className: "panel" }, h("h2", {}, "扫码登录"), h("p", {}, "请用已登录的红帆小程序扫描下方小程序码，并在手机上确认。"), qr),
    dev));
  const begin = async () => {
    let ticket;
    try { ticket = await newTicket(); } catch (e) { qr.replaceChildren(h("p", { className: "error" }, e.message)); return; }
    qr.replaceChildren(
      ticket.qrCode ? h("img", { src: ticket.qrCode, alt: "登录小程序码" }) : h("p", { className: "muted" }, "（开发模式没有小程序码）"),
      h("p", { className: "ticket", id: "ticket" }, ticket.ticket),
      h("p", { className: "muted" }, `有效期至 ${time(ticket.expiresAt)}`));
    if (!ticket.qrCode) $("#dev-login").classList.remove("hidden");
    clearInterval(loginPoll);
    loginPoll = setInterval(async () => {
      try {
        const claim = (await post("mutation($t: ID!, $s: String!) { claimConsoleLogin(ticket: $t, secret: $s) { status session { accessToken refreshToken } } }",
          { t: ticket.ticket, s: ticket.secret })).claimConsoleLogin;
        if (claim.status === "CONFIRMED") { clearInterval(loginPoll); session.set(claim.session); start(); }
        if (claim.status === "EXPIRED") begin();
      } catch (e) { clearInterval(loginPoll); qr.append(h("p", { className: "error" }, e.message)); }
    }, POLL_MS);
  };
  begin();
}

// ---- who is logged in, and what they may see ----------------------------------------------
let me = null;
let communities = [];

function desk(roles) {
  const has = (role) => roles.filter((grant) => grant.role === role);
  const admin = has("ADMIN").some((grant) => !grant.communityId);
  const staffOf = admin ? communities.map((c) => c.id) : has("STAFF").concat(has("ADMIN")).map((grant) => grant.communityId).filter(Boolean);
  return {
    admin,
    communities: communities.filter((c) => staffOf.includes(c.id)),
    streets: has("STREET_STAFF").map((grant) => grant.streetId),
    departments: has("DEPARTMENT_STAFF").map((grant) => grant.departmentId),
  };
}

const SCREENS = {
  board: { name: "派单台", shown: (d) => d.communities.length > 0, draw: drawBoard },
  alerts: { name: "预警", shown: (d) => d.communities.length > 0, draw: drawAlerts },
  approvals: { name: "审核", shown: (d) => d.communities.length > 0, draw: drawApprovals },
  escalations: { name: "督办", shown: (d) => d.communities.length + d.streets.length + d.departments.length > 0, draw: drawEscalations },
  numbers: { name: "数据", shown: (d) => d.admin || d.communities.length + d.streets.length > 0, draw: drawNumbers },
  ratings: { name: "红黑榜", shown: (d) => d.admin || d.communities.length + d.streets.length > 0, draw: drawRatings },
};

async function start() {
  clearInterval(loginPoll);
  const data = await gql("{ me { id name roles { role communityId streetId departmentId } } communities { id name street { id name } } districts { id name } }");
  me = data.me;
  communities = data.communities;
  me.desk = desk(me.roles);
  me.districts = data.districts;
  $("#who").textContent = me.name || "（未填姓名）";
  $("#logout").classList.remove("hidden");
  const screens = Object.entries(SCREENS).filter(([, screen]) => screen.shown(me.desk));
  $("nav").replaceChildren(...screens.map(([key, screen]) => h("a", { href: `#${key}`, id: `nav-${key}` }, screen.name)));
  if (!screens.length) {
    $("main").replaceChildren(h("div", { className: "panel", id: "no-access" },
      h("h2", {}, "没有工作人员权限"),
      h("p", {}, "控制台只对社区、街道和部门工作人员开放。居民、党员和商户请使用红帆小程序。")));
    return;
  }
  if (!screens.some(([key]) => `#${key}` === location.hash)) location.hash = `#${screens[0][0]}`;
  route();
}

let poll = null;
function stopPolling() { clearInterval(poll); poll = null; }

// Each navigation is a visit. A screen still loading when the user moves on must neither draw
// over the next screen (nor its error) nor leave its polling running.
let visits = 0;
const shown = (visit) => visit === visits;
function pollWhileShown(visit, load, ms) {
  if (shown(visit)) poll = setInterval(() => load().catch(() => {}), ms);
}

function route() {
  if (!me) return;
  stopPolling();
  const key = location.hash.slice(1);
  const screen = SCREENS[key];
  if (!screen || !screen.shown(me.desk)) return;
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.id === `nav-${key}`));
  const visit = ++visits;
  screen.draw(visit).catch((e) => { if (shown(visit)) $("main").replaceChildren(h("p", { className: "error" }, e.message)); });
}

function select(id, options, value) {
  const node = h("select", { id }, options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)));
  return node;
}

// ---- dispatch board and alerts -------------------------------------------------------------
const ORDER_ROW = "id title status alertLevel isOverdue responseDueAt completionDueAt createdAt needsFollowUp category { id name } grid { id name } requester { name } residentName";
const board = { community: null, selected: null, orders: [] };

function orderTable(orders) {
  const due = (order) => (["PENDING_DISPATCH", "DISPATCHED", "OPEN"].includes(order.status) ? order.responseDueAt : order.completionDueAt);
  return h("table", { id: "orders" },
    h("thead", {}, h("tr", {}, ["预警", "标题", "类别", "网格", "居民", "状态", "期限"].map((t, i) => h("th", { style: ["width:64px", "", "width:90px", "width:90px", "width:90px", "width:80px", "width:150px"][i] }, t)))),
    h("tbody", {}, orders.map((order) => h("tr", {
      "data-id": order.id, "data-status": order.status,
      className: order.id === board.selected ? "selected" : "",
      onclick: () => { board.selected = order.id; drawDetail(); document.querySelectorAll("#orders tr").forEach((tr) => tr.classList.toggle("selected", tr.dataset.id === order.id)); },
    },
    h("td", {}, h("span", { className: `dot ${order.alertLevel}` }), order.alertLevel === "GREEN" ? "" : order.alertLevel === "RED" ? "红" : "黄"),
    h("td", { title: order.title }, order.title),
    h("td", {}, order.category.name),
    h("td", {}, order.grid ? order.grid.name : "—"),
    h("td", {}, order.residentName || order.requester.name || "—"),
    h("td", { className: "status" }, STATUS[order.status] || order.status),
    h("td", { className: order.isOverdue ? "late" : "" }, time(due(order)))))));
}

async function drawOrders(kind, visit) {
  const d = me.desk;
  board.community = board.community && d.communities.some((c) => c.id === board.community) ? board.community : d.communities[0].id;
  const filters = h("div", { className: "toolbar" },
    h("label", {}, "社区", select("community", d.communities.map((c) => [c.id, c.name]), board.community)),
    kind === "board" && h("label", {}, "状态", select("status", [["", "全部"], ...Object.entries(STATUS)], "")),
    kind === "board" && h("label", {}, h("input", { type: "checkbox", id: "overdue" }), "超时未接"),
    kind === "board" && h("label", {}, h("input", { type: "checkbox", id: "follow-up" }), "待回访"),
    h("label", {}, "预警", select("level", kind === "board" ? [["", "全部"], ["RED", "红"], ["YELLOW", "黄"], ["GREEN", "绿"]] : [["", "红和黄"], ["RED", "红"], ["YELLOW", "黄"]], "")),
    h("label", {}, "类别", select("category", [["", "全部"]], "")),
    h("label", {}, "网格", select("grid", [["", "全部"]], "")),
    kind === "board" && h("button", { className: "plain", id: "on-behalf", onclick: () => drawOnBehalf() }, "代办下单"),
    h("span", { className: "muted", id: "refreshed" }));
  const list = h("div", { className: "panel" }, filters, h("div", { id: "list" }));
  $("main").replaceChildren(h("div", { className: "split" }, list, h("div", { className: "panel detail", id: "detail" }, h("p", { className: "muted" }, "选择一个工单查看详情"))));
  const [categories, community] = await Promise.all([
    gql("{ serviceCategories { id name } }"),
    gql("query($id: ID!) { community(id: $id) { grids { id name } } }", { id: board.community }),
  ]);
  if (!shown(visit)) return;
  $("#category").append(...categories.serviceCategories.map((c) => h("option", { value: c.id }, c.name)));
  $("#grid").append(...community.community.grids.map((g) => h("option", { value: g.id }, g.name)));
  const load = async () => {
    const value = (id) => ($(`#${id}`) ? $(`#${id}`).value || null : null);
    const checked = (id) => Boolean($(`#${id}`) && $(`#${id}`).checked);
    const data = kind === "board"
      ? (await gql(`query($c: ID!, $s: OrderStatus, $o: Boolean!, $f: Boolean!, $l: AlertLevel) { list: dispatchQueue(communityId: $c, status: $s, overdueOnly: $o, needsFollowUp: $f, alertLevel: $l, first: 100) { edges { node { ${ORDER_ROW} } } } }`,
        { c: board.community, s: value("status"), o: checked("overdue"), f: checked("follow-up"), l: value("level") }))
      : (await gql(`query($c: ID!, $l: AlertLevel) { list: alerts(communityId: $c, level: $l, first: 100) { edges { node { ${ORDER_ROW} } } } }`, { c: board.community, l: value("level") }));
    const category = value("category");
    const grid = value("grid");
    board.orders = data.list.edges.map((edge) => edge.node)
      .filter((order) => (!category || order.category.id === category) && (!grid || (order.grid && order.grid.id === grid)));
    $("#list").replaceChildren(board.orders.length ? orderTable(board.orders) : h("p", { className: "muted", id: "empty" }, "没有符合条件的工单"));
    $("#refreshed").textContent = `更新于 ${new Date().toLocaleTimeString("zh-CN", { hour12: false })}`;
  };
  filters.addEventListener("change", (event) => {
    if (event.target.id === "community") { board.community = event.target.value; board.selected = null; drawOrders(kind, visit); } else load();
  });
  await load();
  // Live: the board asks again every few seconds while it is open.
  pollWhileShown(visit, load, POLL_MS);
  if (board.selected && shown(visit)) drawDetail();
}

function drawBoard(visit) { return drawOrders("board", visit); }
function drawAlerts(visit) { return drawOrders("alerts", visit); }

async function act(mutation, variables, message) {
  const error = $("#action-error");
  try {
    await gql(mutation, variables);
    if (error) error.textContent = "";
    if (message) $("#detail").prepend(h("p", { className: "muted" }, message));
    await drawDetail();
  } catch (e) { if (error) error.textContent = e.message; }
}

async function drawDetail() {
  const id = board.selected;
  const { order } = await gql(`query($id: ID!) { order(id: $id) { ${ORDER_ROW} description address contactPhone channel minutesSpent completionSummary ratingStars ratingComment
    assignee { name } taker { name } community { id street { id } }
    photos { url purpose } events { action toStatus note at actor { name } } callbacks { reached satisfied note at staff { name } } } }`, { id });
  if (board.selected !== id) return;
  const panel = $("#detail");
  if (!panel) return;
  const error = h("p", { className: "error", id: "action-error" });
  const actions = h("div", { className: "actions" });
  if (order.status === "PENDING_DISPATCH" || order.status === "DISPATCHED") {
    const members = await gql("query($c: ID!) { communityMembers(communityId: $c, first: 50) { edges { node { member { id name skills } openTasks completedLast30Days } } } }", { c: order.community.id });
    const choice = select("assignee", members.communityMembers.edges.map(({ node }) =>
      [node.member.id, `${node.member.name || "（未填姓名）"} · ${node.member.skills.join("、") || "无技能"} · 在办 ${node.openTasks}`]), "");
    const note = h("input", { type: "text", id: "dispatch-note", placeholder: "派单说明（可选）" });
    actions.append(h("div", { className: "row" }, choice, h("button", { id: "dispatch", onclick: () => act("mutation($o: ID!, $a: ID!, $n: String) { dispatchOrder(orderId: $o, assigneeId: $a, note: $n) { id } }", { o: id, a: choice.value, n: note.value || null }, "已派单") }, "派单")), note);
  }
  if (order.status === "PENDING_DISPATCH") {
    actions.append(h("div", { className: "row" }, h("button", { className: "plain", id: "publish", onclick: () => act("mutation($o: ID!) { publishOrder(orderId: $o) { id } }", { o: id }, "已发布到抢单池") }, "发布抢单")));
    const target = select("transfer-to", communities.filter((c) => c.id !== order.community.id).map((c) => [c.id, c.name]), "");
    const reason = h("input", { type: "text", id: "transfer-reason", placeholder: "转办原因" });
    actions.append(h("div", { className: "row" }, target, reason, h("button", { className: "plain", onclick: () => act("mutation($o: ID!, $c: ID!, $r: String!) { transferOrder(orderId: $o, communityId: $c, reason: $r) { id } }", { o: id, c: target.value, r: reason.value }, "已转办") }, "转办")));
  }
  if (!["COMPLETED", "RATED", "CANCELLED", "ESCALATED"].includes(order.status)) {
    const { departments } = await gql("query($s: ID!) { departments(streetId: $s) { id name level } }", { s: order.community.street.id });
    const department = select("department", departments.map((dep) => [`${dep.level}:${dep.id}`, dep.name]), "");
    const reason = h("input", { type: "text", id: "escalate-reason", placeholder: "上报原因" });
    actions.append(h("div", { className: "row" }, department, reason, h("button", { className: "plain", onclick: () => {
      const [level, departmentId] = department.value.split(":");
      act("mutation($i: EscalateOrderInput!) { escalateOrder(input: $i) { id } }", { i: { orderId: id, to: level, departmentId, reason: reason.value } }, "已上报");
    } }, "上报")));
  }
  if (order.status === "COMPLETED" || order.status === "RATED") {
    const reached = h("input", { type: "checkbox", id: "reached", checked: true });
    const satisfied = select("satisfied", [["true", "满意"], ["false", "不满意"], ["", "未表态"]], "true");
    const note = h("input", { type: "text", id: "callback-note", placeholder: "回访记录" });
    actions.append(h("div", { className: "row" }, h("label", {}, reached, "联系上"), satisfied, note,
      h("button", { className: "plain", onclick: () => act("mutation($o: ID!, $r: Boolean!, $s: Boolean, $n: String!) { recordCallback(orderId: $o, reached: $r, satisfied: $s, note: $n) { id } }",
        { o: id, r: reached.checked, s: satisfied.value === "" ? null : satisfied.value === "true", n: note.value }, "已记录回访") }, "记录回访")));
  }
  fill(panel,
    h("h2", {}, h("span", { className: `dot ${order.alertLevel}` }), order.title),
    h("dl", {},
      h("dt", {}, "状态"), h("dd", { id: "detail-status" }, STATUS[order.status] || order.status),
      h("dt", {}, "类别"), h("dd", {}, order.category.name),
      h("dt", {}, "居民"), h("dd", {}, `${order.residentName || order.requester.name || "—"} ${order.contactPhone}`),
      h("dt", {}, "地址"), h("dd", {}, order.address),
      h("dt", {}, "描述"), h("dd", {}, order.description || "—"),
      h("dt", {}, "接单期限"), h("dd", { className: order.isOverdue ? "late" : "" }, time(order.responseDueAt)),
      h("dt", {}, "完成期限"), h("dd", {}, time(order.completionDueAt)),
      h("dt", {}, "派给"), h("dd", {}, order.assignee ? order.assignee.name : "—"),
      h("dt", {}, "接单"), h("dd", {}, order.taker ? order.taker.name : "—"),
      order.completionSummary && [h("dt", {}, "完成情况"), h("dd", {}, `${order.completionSummary}（${order.minutesSpent} 分钟）`)],
      order.ratingStars && [h("dt", {}, "评价"), h("dd", {}, `${"★".repeat(order.ratingStars)} ${order.ratingComment || ""}`)]),
    order.photos.length > 0 && h("div", { className: "photos" }, order.photos.map((photo) => h("a", { href: photo.url, target: "_blank", rel: "noopener" }, h("img", { src: photo.url, alt: photo.purpose })))),
    h("h3", {}, "时间线"),
    h("ul", { className: "timeline" }, order.events.map((event) => h("li", {}, h("b", {}, ACTIONS[event.action] || event.action), ` ${event.actor.name || ""} · ${time(event.at)}`, event.note ? h("div", { className: "muted" }, event.note) : null))),
    order.callbacks.length > 0 && [h("h3", {}, "回访"), h("ul", { className: "timeline" }, order.callbacks.map((c) => h("li", {}, `${c.staff.name || ""} · ${time(c.at)} · ${c.reached ? (c.satisfied === false ? "不满意" : c.satisfied ? "满意" : "联系上") : "未联系上"}`, c.note ? h("div", { className: "muted" }, c.note) : null)))],
    actions.children.length ? [h("h3", {}, "操作"), actions] : null,
    error);
}

async function drawOnBehalf() {
  const { serviceCategories } = await gql("{ serviceCategories { id name } }");
  const field = (id, label) => h("label", {}, label, h("input", { type: "text", id }));
  const error = h("p", { className: "error" });
  const form = h("div", { className: "actions", id: "on-behalf-form" },
    h("h2", {}, "代办下单"),
    field("ob-name", "居民姓名"), field("ob-phone", "电话"),
    h("label", {}, "类别", select("ob-category", serviceCategories.map((c) => [c.id, c.name]), "")),
    field("ob-title", "标题"), field("ob-address", "地址"),
    h("label", {}, "描述", h("textarea", { id: "ob-description", rows: 3 })),
    h("label", {}, "渠道", select("ob-channel", [["STAFF", "窗口代办"], ["HOTLINE", "热线"]], "STAFF")),
    h("button", { onclick: async () => {
      const v = (id) => $(`#${id}`).value;
      try {
        const data = await gql("mutation($i: PlaceOrderOnBehalfInput!) { placeOrderOnBehalf(input: $i) { id } }", { i: {
          communityId: board.community, residentName: v("ob-name"), phone: v("ob-phone"), channel: v("ob-channel"),
          order: { categoryId: v("ob-category"), title: v("ob-title"), description: v("ob-description"), address: v("ob-address"), contactPhone: v("ob-phone") } } });
        board.selected = data.placeOrderOnBehalf.id;
        drawDetail();
      } catch (e) { error.textContent = e.message; }
    } }, "提交"),
    error);
  $("#detail").replaceChildren(form);
}

// ---- escalations: the inbox of street and department staff, and a community's own --------
async function drawEscalations(visit) {
  const d = me.desk;
  const scopes = [
    ...d.departments.map((id) => [`departmentId:${id}`, "本部门"]),
    ...d.streets.map((id) => [`streetId:${id}`, "本街道"]),
    ...d.communities.map((c) => [`communityId:${c.id}`, c.name]),
    ...(d.admin ? me.districts.map((district) => [`districtId:${district.id}`, district.name]) : []),
  ];
  const scope = select("scope", scopes, scopes[0][0]);
  const status = select("escalation-status", [["", "全部"], ...Object.entries(ESCALATION_STATUS)], "");
  const list = h("div", { id: "escalation-list" });
  const error = h("p", { className: "error", id: "escalation-error" });
  $("main").replaceChildren(h("div", { className: "panel" }, h("div", { className: "toolbar" }, h("label", {}, "范围", scope), h("label", {}, "状态", status)), error, list));
  const load = async () => {
    const [key, value] = scope.value.split(":");
    const data = await gql("query($s: EscalationScope!, $t: EscalationStatus) { escalations(scope: $s, status: $t, first: 100) { edges { node { id level status reason dueAt isOverdue outcome department { name } order { title community { name } } } } } }",
      { s: { [key]: value }, t: status.value || null });
    const rows = data.escalations.edges.map((edge) => edge.node);
    const respond = (escalation, action) => async () => {
      const note = prompt("说明（进展、结果或退回原因）") || "";
      try {
        await gql("mutation($i: RespondToEscalationInput!) { respondToEscalation(input: $i) { id } }", { i: { escalationId: escalation.id, action, note } });
        error.textContent = "";
        load();
      } catch (e) { error.textContent = e.message; }
    };
    list.replaceChildren(rows.length ? h("table", {},
      h("thead", {}, h("tr", {}, ["工单", "社区", "部门", "级别", "状态", "期限", "原因", "操作"].map((t) => h("th", {}, t)))),
      h("tbody", {}, rows.map((e) => h("tr", {},
        h("td", {}, e.order.title), h("td", {}, e.order.community.name), h("td", {}, e.department.name),
        h("td", {}, e.level === "STREET" ? "街道" : "区级"), h("td", {}, ESCALATION_STATUS[e.status] || e.status),
        h("td", { className: e.isOverdue ? "late" : "" }, time(e.dueAt)), h("td", { title: e.reason }, e.reason),
        h("td", {}, e.status === "OPEN" && h("button", { className: "plain", onclick: respond(e, "ACCEPT") }, "受理"),
          e.status === "ACCEPTED" && [h("button", { className: "plain", onclick: respond(e, "PROGRESS") }, "进展"), " ",
            h("button", { className: "plain", onclick: respond(e, "RESOLVE") }, "办结")],
          ["OPEN", "ACCEPTED"].includes(e.status) && [" ", h("button", { className: "plain", onclick: respond(e, "RETURN") }, "退回")]))))) : h("p", { className: "muted" }, "没有督办事项"));
  };
  scope.addEventListener("change", load);
  status.addEventListener("change", load);
  await load();
  pollWhileShown(visit, load, POLL_MS * 5);
}

// ---- approvals: what waits for a STAFF decision in the community --------------------------
const QUEUES = [
  {
    key: "applications", title: "党员报到",
    load: (c) => gql("query($c: ID!) { list: partyMemberApplications(communityId: $c, status: PENDING) { id branch employer createdAt applicant { name } } }", { c }),
    row: (a) => [a.applicant.name || "—", `${a.branch} · ${a.employer}`, time(a.createdAt)],
    decide: (a, approve, note) => gql("mutation($i: ID!, $a: Boolean!, $n: String) { reviewPartyMemberApplication(applicationId: $i, approve: $a, note: $n) { id } }", { i: a.id, a: approve, n: note || null }),
  },
  {
    key: "adjustments", title: "积分调整（需第二人确认）",
    load: () => gql("{ list: pendingPointsAdjustments { id amount reason createdAt user { name } requestedBy { name } } }"),
    row: (r) => [r.user.name || "—", `${r.amount > 0 ? "+" : ""}${r.amount} 分 · ${r.reason}（${r.requestedBy.name || ""} 申请）`, time(r.createdAt)],
    decide: (r, approve, note) => gql("mutation($i: ID!, $a: Boolean!, $n: String) { decidePointsAdjustment(requestId: $i, approve: $a, reason: $n) { id } }", { i: r.id, a: approve, n: note || null }),
  },
  {
    key: "deeds-check", title: "好人好事（待核实）",
    load: (c) => gql("query($c: ID!) { list: goodDeeds(communityId: $c, status: PENDING_CHECK, first: 50) { edges { node { id description happenedAt kind { name } resident { name } } } } }", { c }),
    row: (g) => [g.resident.name || "—", `${g.kind.name} · ${g.description}`, time(g.happenedAt)],
    decide: (g, approve, note) => gql("mutation($i: ID!, $a: Boolean!, $n: String) { checkGoodDeed(deedId: $i, happened: $a, note: $n) { id } }", { i: g.id, a: approve, n: note || null }),
  },
  {
    key: "deeds-review", title: "好人好事（待确认积分）",
    load: (c) => gql("query($c: ID!) { list: goodDeeds(communityId: $c, status: PENDING_REVIEW, first: 50) { edges { node { id description happenedAt kind { name } resident { name } } } } }", { c }),
    row: (g) => [g.resident.name || "—", `${g.kind.name} · ${g.description}`, time(g.happenedAt)],
    decide: (g, approve, note) => gql("mutation($i: ID!, $a: Boolean!, $n: String) { reviewGoodDeed(deedId: $i, approve: $a, reason: $n) { id } }", { i: g.id, a: approve, n: note || null }),
  },
  {
    key: "units", title: "共建单位",
    load: (c) => gql("query($c: ID!) { list: units(communityId: $c, status: PENDING_REVIEW, first: 50) { edges { node { id name partyOrganisation resources contactName } } } }", { c }),
    row: (u) => [u.name, `${u.partyOrganisation} · ${u.resources}`, u.contactName],
    decide: (u, approve, note) => gql("mutation($i: ID!, $a: Boolean!, $n: String) { reviewUnit(unitId: $i, approve: $a, note: $n) { id } }", { i: u.id, a: approve, n: note || null }),
  },
  {
    key: "merchants", title: "商户入驻",
    load: (c) => gql("query($c: ID!) { list: communityMerchants(communityId: $c, first: 50) { edges { node { id name category address phone } } } }", { c }),
    row: (m) => [m.name, `${m.category} · ${m.address}`, m.phone],
    // A merchant turned down stays out of the alliance as SUSPENDED, with the reason.
    decide: (m, approve, note) => (approve
      ? gql("mutation($i: ID!) { approveMerchant(merchantId: $i) { id } }", { i: m.id })
      : gql("mutation($i: ID!, $r: String!) { suspendMerchant(merchantId: $i, reason: $r) { id } }", { i: m.id, r: note || "不符合入驻条件" })),
  },
  {
    key: "objections", title: "积分公示异议（本月）",
    load: (c) => {
      const now = new Date();
      const month = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}`;
      return gql("query($c: ID!, $m: String!) { notice: communityPointsNotice(communityId: $c, month: $m) { objections { id recordId reason at resolvedAt } } }", { c, m: month })
        .then((data) => ({ list: data.notice.objections.filter((o) => !o.resolvedAt) }));
    },
    row: (o) => [`记录 ${o.recordId.slice(0, 8)}`, o.reason, time(o.at)],
    // Approving an objection reverses the line's points; turning it down keeps them.
    decide: (o, approve, note) => gql("mutation($i: ID!, $n: String!, $r: Boolean!) { resolveNoticeObjection(objectionId: $i, note: $n, reverse: $r) { id } }", { i: o.id, n: note || (approve ? "核实有误，撤销积分" : "核实无误"), r: approve }),
  },
];

async function drawApprovals() {
  const d = me.desk;
  board.community = board.community && d.communities.some((c) => c.id === board.community) ? board.community : d.communities[0].id;
  const community = select("approvals-community", d.communities.map((c) => [c.id, c.name]), board.community);
  const sections = h("div", { id: "approvals" });
  $("main").replaceChildren(h("div", { className: "panel" }, h("div", { className: "toolbar" }, h("label", {}, "社区", community))), sections);
  const load = async () => {
    const drawn = await Promise.all(QUEUES.map(async (queue) => {
      const error = h("p", { className: "error" });
      let items = [];
      try {
        const data = await queue.load(board.community);
        items = Array.isArray(data.list) ? data.list : data.list.edges.map((edge) => edge.node);
      } catch (e) { error.textContent = e.message; }
      const note = (item) => h("input", { type: "text", placeholder: "意见（可选）", "data-note": item.id });
      const decide = (item, approve) => async () => {
        const text = sections.querySelector(`[data-note="${item.id}"]`).value;
        try { await queue.decide(item, approve, text); load(); } catch (e) { error.textContent = e.message; }
      };
      return h("div", { className: "panel", id: `queue-${queue.key}` },
        h("h3", {}, `${queue.title}（${items.length}）`),
        items.length ? h("table", {}, h("tbody", {}, items.map((item) => h("tr", {},
          queue.row(item).map((cell, i) => h("td", { title: cell, style: i === 1 ? "width:45%" : "" }, cell)),
          h("td", { className: "decide" }, note(item), " ",
            h("button", { onclick: decide(item, true) }, "同意"), " ",
            h("button", { className: "plain", onclick: decide(item, false) }, "不同意")))))) : h("p", { className: "muted" }, "没有待办"),
        error);
    }));
    fill(sections, drawn);
  };
  community.addEventListener("change", () => { board.community = community.value; load(); });
  await load();
}

// ---- numbers: governanceStats with charts, a table view and the CSV export ---------------
const COUNTS = "placed cancelled rated responseRate resolutionRate satisfactionRate callbackRate averageResponseMinutes yellow red";

async function drawNumbers() {
  const d = me.desk;
  const scopes = [
    ...d.communities.map((c) => [`communityId:${c.id}`, c.name]),
    ...d.streets.map((id) => [`streetId:${id}`, (communities.find((c) => c.street.id === id) || { street: { name: "本街道" } }).street.name]),
    ...(d.admin ? me.districts.map((district) => [`districtId:${district.id}`, district.name]) : []),
  ];
  const scope = select("stats-scope", scopes, scopes[0][0]);
  const months = select("months", [["3", "近 3 个月"], ["6", "近 6 个月"], ["12", "近 12 个月"]], "12");
  const asTable = h("input", { type: "checkbox", id: "as-table" });
  const exportType = select("export", [["orders.csv", "工单"], ["service-records.csv", "服务记录"], ["points-ledger.csv", "积分流水"], ["redemptions.csv", "兑换"], ["patrols.csv", "网格巡查"]], "orders.csv");
  const error = h("p", { className: "error" });
  const body = h("div", { id: "numbers" });
  $("main").replaceChildren(h("div", { className: "panel" }, h("div", { className: "toolbar" },
    h("label", {}, "范围", scope), h("label", {}, "时间", months), h("label", {}, asTable, "表格视图"),
    h("label", {}, "导出", exportType), h("button", { className: "plain", id: "download", onclick: () => download() }, "下载 CSV")), error, body));
  const period = () => {
    const now = new Date();
    const from = new Date(now.getFullYear(), now.getMonth() - Number(months.value) + 1, 1);
    return { from: from.toISOString(), to: now.toISOString() };
  };
  const scopeValue = () => { const [key, value] = scope.value.split(":"); return { [key]: value }; };
  const download = async () => {
    const { from, to } = period();
    const [key, value] = scope.value.split(":");
    const query = new URLSearchParams({ [key]: value, from, to });
    const response = await fetch(`/exports/${exportType.value}?${query}`, { headers: { Authorization: `Bearer ${session.get().accessToken}` } });
    if (!response.ok) { error.textContent = `导出失败（${response.status}）`; return; }
    const link = h("a", { href: URL.createObjectURL(await response.blob()), download: exportType.value });
    link.click();
    URL.revokeObjectURL(link.href);
  };
  const load = async () => {
    const { from, to } = period();
    const { governanceStats: stats } = await gql(`query($s: StatsScope!, $f: DateTime!, $t: DateTime!) { governanceStats(scope: $s, from: $f, to: $t) {
      total { ${COUNTS} } byMonth { month counts { ${COUNTS} } } byCategory { category { name } counts { placed } } byStatus { key orders }
      patrols { grid { name } month patrols pointsDue pointsSignedOff pointsMissed coverage offSite findings }
      consultations { topics decided averageTurnout averageDaysToDecision } } }`, { s: scopeValue(), f: from, t: to });
    const t = stats.total;
    const figures = h("div", { className: "figures", id: "figures" }, [
      ["工单", t.placed], ["已评价", t.rated], ["响应率", percent(t.responseRate)], ["办结率", percent(t.resolutionRate)],
      ["满意率", percent(t.satisfactionRate)], ["回访率", percent(t.callbackRate)], ["红色预警", t.red], ["黄色预警", t.yellow],
    ].map(([label, value]) => h("div", { className: "figure" }, label, h("b", {}, value))));
    const monthTable = h("table", { id: "month-table" },
      h("thead", {}, h("tr", {}, ["月份", "工单", "已评价", "响应率", "办结率", "满意率"].map((x) => h("th", {}, x)))),
      h("tbody", {}, stats.byMonth.map((m) => h("tr", {}, h("td", {}, m.month), h("td", { className: "num" }, m.counts.placed), h("td", { className: "num" }, m.counts.rated),
        h("td", { className: "num" }, percent(m.counts.responseRate)), h("td", { className: "num" }, percent(m.counts.resolutionRate)), h("td", { className: "num" }, percent(m.counts.satisfactionRate))))));
    const categoryTable = h("table", { id: "category-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "类别"), h("th", {}, "工单"))),
      h("tbody", {}, stats.byCategory.map((c) => h("tr", {}, h("td", {}, c.category.name), h("td", { className: "num" }, c.counts.placed)))));
    // Patrols and consultations are tables in both views: a grid per row is what staff compare.
    const c = stats.consultations;
    const consultations = h("div", { className: "panel", id: "consultation-figures" }, h("h3", {}, "议事协商"),
      h("div", { className: "figures" }, [
        ["议题", c.topics], ["已表决", c.decided], ["平均参与率", percent(c.averageTurnout)],
        ["平均决议天数", c.averageDaysToDecision == null ? "—" : c.averageDaysToDecision.toFixed(1)],
      ].map(([label, value]) => h("div", { className: "figure" }, label, h("b", {}, value)))));
    const patrols = h("div", { className: "panel" }, h("h3", {}, "网格巡查"),
      stats.patrols.length ? h("table", { id: "patrol-table" },
        h("thead", {}, h("tr", {}, ["网格", "月份", "巡查", "应签点位", "已签", "漏签", "覆盖率", "异地签到", "发现上报"].map((x) => h("th", {}, x)))),
        h("tbody", {}, stats.patrols.map((p) => h("tr", {}, h("td", {}, p.grid.name), h("td", {}, p.month),
          ...[p.patrols, p.pointsDue, p.pointsSignedOff, p.pointsMissed, percent(p.coverage), p.offSite, p.findings].map((v) => h("td", { className: "num" }, v))))))
        : h("p", { className: "muted", id: "no-patrols" }, "这段时间没有网格巡查。"));
    const trend = h("div", { className: "chart", id: "trend-chart" });
    const bars = h("div", { className: "chart", id: "category-chart" });
    body.replaceChildren(figures, h("div", { className: asTable.checked ? "hidden" : "charts", id: "chart-view" }, trend, bars),
      h("div", { className: asTable.checked ? "" : "hidden", id: "table-view" }, monthTable, categoryTable), patrols, consultations);
    // Every month of the period on the axis, those without orders too.
    const byMonth = new Map(stats.byMonth.map((m) => [m.month, m.counts]));
    const axis = [];
    for (let d = new Date(from); d <= new Date(to); d.setMonth(d.getMonth() + 1)) {
      axis.push(`${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`);
    }
    const series = (pick) => axis.map((month) => (byMonth.has(month) ? pick(byMonth.get(month)) : null));
    const rate = (key) => series((counts) => (counts[key] == null ? null : +(counts[key] * 100).toFixed(1)));
    // Canvas text does not fall back like page text: the charts use the page's fonts, loaded.
    await document.fonts.ready;
    const font = { fontFamily: getComputedStyle(document.body).fontFamily };
    echarts.init(trend).setOption({
      animation: false, textStyle: font,
      title: { text: "月度趋势", textStyle: { fontSize: 14 } }, tooltip: { trigger: "axis" }, legend: { top: 24 },
      grid: { top: 64, left: 48, right: 48, bottom: 32 }, xAxis: { type: "category", data: axis },
      yAxis: [{ type: "value", name: "工单", minInterval: 1 }, { type: "value", name: "%", max: 100 }],
      series: [
        { name: "工单", type: "bar", data: series((counts) => counts.placed), itemStyle: { color: "#b71c1c" } },
        { name: "响应率", type: "line", yAxisIndex: 1, connectNulls: true, data: rate("responseRate") },
        { name: "办结率", type: "line", yAxisIndex: 1, connectNulls: true, data: rate("resolutionRate") },
        { name: "满意率", type: "line", yAxisIndex: 1, connectNulls: true, data: rate("satisfactionRate") },
      ],
    });
    echarts.init(bars).setOption({
      animation: false, textStyle: font,
      title: { text: "各类别工单", textStyle: { fontSize: 14 } }, tooltip: {}, grid: { top: 40, left: 96, right: 24, bottom: 32 },
      xAxis: { type: "value", minInterval: 1 }, yAxis: { type: "category", data: stats.byCategory.map((c) => c.category.name) },
      series: [{ name: "工单", type: "bar", data: stats.byCategory.map((c) => c.counts.placed), itemStyle: { color: "#b71c1c" } }],
    });
  };
  const reload = () => load().catch((e) => { error.textContent = e.message; });
  scope.addEventListener("change", reload);
  months.addEventListener("change", reload);
  asTable.addEventListener("change", () => {
    $("#chart-view").className = asTable.checked ? "hidden" : "charts";
    $("#table-view").className = asTable.checked ? "" : "hidden";
  });
  await load();
}

// ---- 红黑榜: the street's quarterly rating of its property companies ------------------------
const LISTING = { RED: "红榜", BLACK: "黑榜", NONE: "—" };

function thisQuarter() {
  // The quarter in China time, as the server counts it.
  const china = new Date(Date.now() + 8 * 3600 * 1000);
  return `${china.getUTCFullYear()}-Q${Math.floor(china.getUTCMonth() / 3) + 1}`;
}

async function drawRatings() {
  const d = me.desk;
  const streets = new Map();
  for (const c of communities) {
    if (d.admin || d.streets.includes(c.street.id) || d.communities.some((mine) => mine.id === c.id)) streets.set(c.street.id, c.street.name);
  }
  const street = select("ratings-street", [...streets], [...streets.keys()][0]);
  const error = h("p", { className: "error" });
  const body = h("div", { id: "ratings" });
  $("main").replaceChildren(h("div", { className: "panel" }, h("div", { className: "toolbar" }, h("label", {}, "街道", street)), error), body);
  const runs = (streetId) => d.admin || d.streets.includes(streetId);
  const run = async (mutation, variables) => {
    try { await gql(mutation, variables); await load(); } catch (e) { error.textContent = e.message; }
  };
  const load = async () => {
    error.textContent = "";
    const { propertyRounds: rounds } = await gql(`query($s: ID!) { propertyRounds(streetId: $s) { id quarter status closesAt redBar blackBar digest
      results { company { name } households averages orders responseRate resolutionRate satisfaction reopenRate redAlerts score listing } } }`, { s: street.value });
    const quarter = thisQuarter();
    const actions = [];
    if (runs(street.value) && !rounds.some((r) => r.quarter === quarter)) {
      actions.push(h("button", { id: "open-round", onclick: async () => {
        const closesAt = new Date(Date.now() + 14 * 24 * 3600 * 1000).toISOString();
        await run("mutation($i: OpenPropertyRatingInput!) { openPropertyRating(input: $i) { id } }", { i: { streetId: street.value, quarter, closesAt } });
      } }, `发起 ${quarter} 评议`));
    }
    const panels = rounds.map((round) => {
      const head = h("h3", {}, `${round.quarter} 物业服务评议 · ${round.status === "OPEN" ? "评议中" : "已封存"}`);
      if (round.status === "OPEN") {
        return h("div", { className: "panel", id: `round-${round.quarter}` }, head,
          h("p", { className: "muted" }, `居民评议至 ${time(round.closesAt)}；结果在结束后公布，此前任何人（包括管理员）都看不到。`),
          runs(street.value) ? h("button", { className: "close-round", onclick: async () => {
            await run("mutation($r: ID!) { closePropertyRating(roundId: $r) { status } }", { r: round.id });
          } }, "结束评议并封存") : "");
      }
      const list = (listing) => round.results.filter((r) => r.listing === listing).map((r) => r.company.name).join("、") || "无";
      return h("div", { className: "panel", id: `round-${round.quarter}` }, head,
        h("div", { className: "figures wide" },
          h("div", { className: "figure" }, `红榜（≥ ${round.redBar}）`, h("b", { id: "red-list" }, list("RED"))),
          h("div", { className: "figure" }, `黑榜（< ${round.blackBar}）`, h("b", { id: "black-list" }, list("BLACK")))),
        h("table", { className: "results" },
          h("thead", {}, h("tr", {}, ["物业公司", "评议户数", "居民评分", "工单", "响应率", "办结率", "满意率", "返修率", "红色预警", "综合得分", "榜单"].map((x) => h("th", {}, x)))),
          h("tbody", {}, round.results.map((r) => h("tr", {},
            h("td", { title: r.company.name }, r.company.name), h("td", { className: "num" }, r.households),
            h("td", { className: "num" }, r.averages.length ? (r.averages.reduce((a, b) => a + b, 0) / r.averages.length).toFixed(2) : "—"),
            h("td", { className: "num" }, r.orders), h("td", { className: "num" }, percent(r.responseRate)), h("td", { className: "num" }, percent(r.resolutionRate)),
            h("td", { className: "num" }, percent(r.satisfaction)), h("td", { className: "num" }, percent(r.reopenRate)), h("td", { className: "num" }, r.redAlerts),
            h("td", { className: "num" }, r.score.toFixed(1)), h("td", { className: `listing listing-${r.listing}` }, LISTING[r.listing]))))),
        h("p", { className: "muted" }, "封存摘要 SHA-256：", h("code", { className: "ticket", id: "digest" }, round.digest)));
    });
    body.replaceChildren(...(actions.length ? [h("div", { className: "panel" }, ...actions)] : []),
      ...(panels.length ? panels : [h("div", { className: "panel" }, h("p", { className: "muted" }, "本街道还没有物业服务评议。"))]));
  };
  street.addEventListener("change", () => load().catch((e) => { error.textContent = e.message; }));
  await load();
}

// ---- start ---------------------------------------------------------------------------------
window.addEventListener("hashchange", route);
$("#logout").addEventListener("click", async () => {
  try { await gql("mutation { logout }"); } catch (_) { /* the session may be gone already */ }
  session.clear();
  me = null;
  showLogin();
});
if (session.get()) start().catch(() => { session.clear(); showLogin(); });
else showLogin();
