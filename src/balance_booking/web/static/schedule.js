/* /admin/schedule/: the week (hours, Google busy time, bookings, free slots), bookings, working
   hours and special days, kinds of meeting, waiting list. Everything goes through the JSON API. */
(function () {
  "use strict";
  const app = document.getElementById("schedule-app");
  if (!app || !window.BB) return;
  const BB = window.BB;
  const T = BB.texts("schedule-text");
  const $ = (id) => document.getElementById(id);
  const el = BB.el;
  const locale = BB.locale(app.dataset.lang);
  const now = new Date(app.dataset.now);
  // What the API assumes for a new kind of meeting (POST /api/admin/services), from the server.
  const SERVICE_DEFAULTS = Object.freeze(JSON.parse(app.dataset.serviceDefaults || "{}"));
  const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

  const state = {
    zone: app.dataset.ownerTz,
    schedule: null,
    services: [],
    week: 0,
    weekSeq: 0,
    explainSeq: 0,
    explained: null, // {date, minute} of the time whose reasons are shown
    overrideSeq: 0,
  };

  // ---- formatting in the practitioner's zone ---------------------------------------------------

  const fmt = (date, options) =>
    new Intl.DateTimeFormat(locale, Object.assign({ timeZone: state.zone }, options)).format(date);
  const time = (date) => fmt(date, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const dayShort = (date) => BB.capitalize(fmt(date, { weekday: "short", day: "numeric", month: "short" }));
  const dateLabel = (isoDate, options) =>
    new Intl.DateTimeFormat(locale, Object.assign({ timeZone: "UTC" }, options)).format(BB.dateOnly(isoDate));
  const hhmm = (minutes) => `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
  const toMinutes = (value) => {
    const [h, m] = value.split(":").map(Number);
    return h * 60 + m;
  };
  const errorMessage = (answer) =>
    answer.networkError ? T.network : (answer.data && answer.data.error && answer.data.error.message) || String(answer.status);

  function serviceTitle(slug) {
    const service = state.services.find((s) => s.slug === slug);
    if (!service) return slug;
    return app.dataset.lang === "en" && service.title_en ? service.title_en : service.title;
  }

  function zoneOptions(select, selected) {
    let zones = [];
    if (typeof Intl.supportedValuesOf === "function") zones = Intl.supportedValuesOf("timeZone");
    const all = new Set(zones.length ? zones : ["Europe/Moscow", "Europe/Kaliningrad", "Asia/Yekaterinburg"]);
    all.add(selected);
    select.replaceChildren(
      ...Array.from(all)
        .sort()
        .map((zone) => el("option", { value: zone, text: `${BB.zoneLabel(zone)} (${BB.offsetLabel(zone, now)})` }))
    );
    select.value = selected;
  }

  // ---- the week ---------------------------------------------------------------------------------

  function weekStart() {
    const today = BB.localDate(now, state.zone);
    return BB.addDays(today, -BB.weekday(today) + 7 * state.week);
  }

  /** The vacation holding a date ("YYYY-MM-DD" strings compare as dates), if any. */
  function vacationOn(isoDate) {
    const schedule = state.schedule;
    return schedule && (schedule.vacations || []).find((v) => v.from <= isoDate && isoDate <= v.to);
  }

  function windowsOn(isoDate) {
    const schedule = state.schedule;
    if (!schedule || vacationOn(isoDate)) return [];
    const override = schedule.overrides.find((o) => o.date === isoDate);
    return override ? override.intervals : schedule.weekly[DAYS[BB.weekday(isoDate)]] || [];
  }

  /** Split an instant range into per-local-day pieces {date, start, end} (minutes). */
  function pieces(startDate, endDate) {
    const result = [];
    const firstDay = BB.localDate(startDate, state.zone);
    const lastDay = BB.localDate(endDate, state.zone);
    const startMin = BB.localMinutes(startDate, state.zone);
    const endMin = BB.localMinutes(endDate, state.zone);
    if (firstDay === lastDay) return [{ date: firstDay, start: startMin, end: Math.max(endMin, startMin + 1) }];
    result.push({ date: firstDay, start: startMin, end: 1440 });
    for (let day = BB.addDays(firstDay, 1); day < lastDay; day = BB.addDays(day, 1)) {
      result.push({ date: day, start: 0, end: 1440 });
    }
    if (endMin > 0) result.push({ date: lastDay, start: 0, end: endMin });
    return result;
  }

  async function loadWeek() {
    const seq = ++state.weekSeq;
    const start = weekStart();
    const end = BB.addDays(start, 6);
    $("admin-week-label").textContent = BB.format(T.week_range, {
      start: dateLabel(start, { day: "numeric", month: "long" }),
      end: dateLabel(end, { day: "numeric", month: "long", year: "numeric" }),
    });
    const grid = $("admin-week");
    grid.setAttribute("aria-busy", "true");
    grid.classList.add("is-loading");
    $("week-status").textContent = T.loading;
    const range = new URLSearchParams({ from: start, to: end });
    const service = $("week-service").value;
    const requests = [
      BB.request("GET", `/api/admin/busy?${range}`),
      BB.request("GET", `/api/admin/appointments?${range}`),
      service
        ? BB.request("GET", `/api/public/booking/slots?${new URLSearchParams({ service_slug: service, from: start, to: end, tz: state.zone })}`)
        : Promise.resolve(null),
    ];
    const [busy, appointments, slots] = await Promise.all(requests);
    if (seq !== state.weekSeq) return;
    grid.setAttribute("aria-busy", "false");
    grid.classList.remove("is-loading");
    if (!busy.ok || !appointments.ok) {
      $("week-status").textContent = T.load_failed;
      return;
    }
    const items = new Map();
    for (let i = 0; i < 7; i++) items.set(BB.addDays(start, i), []);
    const add = (piece, item) => {
      if (items.has(piece.date)) items.get(piece.date).push(Object.assign({ start: piece.start, end: piece.end }, item));
    };
    for (const day of items.keys()) {
      for (const [from, until] of windowsOn(day)) {
        add({ date: day, start: toMinutes(from), end: toMinutes(until) }, { kind: "hours", text: `${from}–${until}`, label: T.working_hours });
      }
    }
    for (const block of busy.data.busy) {
      const s = new Date(block.start);
      const e = new Date(block.end);
      for (const piece of pieces(s, e)) {
        add(piece, { kind: "busy", text: `${hhmm(piece.start)}–${hhmm(piece.end)}`, label: T.busy });
      }
    }
    for (const a of appointments.data.appointments) {
      if (a.status !== "confirmed" && a.status !== "pending_payment") continue;
      const s = new Date(a.start);
      const e = new Date(a.end);
      for (const piece of pieces(s, e)) {
        add(piece, {
          kind: "appt",
          text: `${time(s)}–${time(e)}`,
          name: a.client_name,
          service: serviceTitle(a.service_slug),
          label: `${a.client_name} · ${serviceTitle(a.service_slug)}`,
          pending: a.status === "pending_payment",
        });
      }
    }
    let slotNote = "";
    if (slots && slots.ok) {
      for (const slot of slots.data.slots) {
        const s = new Date(slot.start);
        const e = new Date(slot.end);
        add(pieces(s, e)[0], { kind: "slot", text: time(s), label: T.free_slot, long: `${time(s)}–${time(e)}` });
      }
    } else if (slots && slots.status === 503) {
      slotNote = T.slots_stale;
    }
    renderWeek(items);
    $("week-status").textContent = slotNote || BB.format(T.week_loaded, { range: $("admin-week-label").textContent });
  }

  const KIND_ORDER = { hours: 0, busy: 1, appt: 2, slot: 3 };
  // On the wide time grid a block is never drawn shorter than this (app.css: .tl-item
  // min-height), so a 15- or 30-minute booking keeps one readable line; side-by-side lanes are
  // worked out with the drawn length, so such a block never hides the next one.
  const SHORTEST_DRAWN_MINUTES = 30;
  // Shorter than this, a block shows its time and text on one line, cut with an ellipsis.
  const ONE_LINE_MINUTES = 45;

  /** Google-Calendar-style lanes: blocks drawn over each other's time share the column side by
   *  side; a block alone at its time takes the whole width. Sets item.lane and item.lanes. */
  function assignLanes(list) {
    const drawnEnd = (item) => Math.max(item.end, item.start + SHORTEST_DRAWN_MINUTES);
    let group = [];
    let groupEnd = -1;
    let laneEnds = [];
    const close = () => {
      for (const item of group) item.lanes = laneEnds.length;
      group = [];
      laneEnds = [];
    };
    for (const item of list) {
      if (item.kind === "hours") continue;
      if (item.start >= groupEnd) close();
      let lane = laneEnds.findIndex((end) => end <= item.start);
      if (lane < 0) lane = laneEnds.push(0) - 1;
      laneEnds[lane] = drawnEnd(item);
      item.lane = lane;
      group.push(item);
      groupEnd = Math.max(groupEnd, drawnEnd(item));
    }
    close();
  }

  /** A block's visible content: the time, then the text (a booking: the name, then the kind).
   *  On the wide grid a short block hides the end of its range (app.css), leaving the line to
   *  the name; screen readers still read the range, and the block's title holds it too. */
  function itemContent(item) {
    const label =
      item.kind === "appt"
        ? el("span", { className: "tl-label" }, [el("span", { className: "tl-name", text: item.name }), ` · ${item.service}`])
        : el("span", { className: "tl-label", text: item.label });
    const [from, until] = item.text.split("–");
    const when = el("span", { className: "tl-time" }, [el("span", { text: from }), el("span", { className: "tl-until", text: `–${until}` })]);
    return [when, " ", label];
  }

  function renderWeek(items) {
    let low = 8 * 60;
    let high = 20 * 60;
    for (const list of items.values()) {
      for (const item of list) {
        low = Math.min(low, Math.floor(item.start / 60) * 60);
        high = Math.max(high, Math.ceil(item.end / 60) * 60);
      }
    }
    const span = high - low;
    const service = $("week-service").value;
    const cellSize = cellMinutes();
    const grid = $("admin-week");
    grid.style.setProperty("--hours", String(span / 60));
    const scale = el("ol", { className: "tl-scale", "aria-hidden": "true" });
    for (let m = low; m < high; m += 60) scale.append(el("li", { text: hhmm(m) }));
    const days = [scale];
    for (const [date, list] of items) {
      list.sort((a, b) => a.start - b.start || KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
      assignLanes(list);
      const headingId = `tl-${date}`;
      const isToday = date === BB.localDate(now, state.zone);
      const away = vacationOn(date);
      const section = el("section", { className: `tl-day${isToday ? " is-today" : ""}${away ? " is-vacation" : ""}`, "aria-labelledby": headingId, dataset: { date } });
      const heading = el("h4", { id: headingId, text: BB.capitalize(dateLabel(date, { weekday: "short", day: "numeric", month: "short" })) });
      if (away) heading.append(" ", el("span", { className: "tl-away", text: T.vacation_day }));
      section.append(heading);
      const ul = el("ul", { className: "tl-items" });
      if (!list.length) ul.append(el("li", { className: "tl-empty", text: T.nothing }));
      for (const item of list) {
        const short = item.end - item.start < ONE_LINE_MINUTES;
        const li = el("li", {
          className: `tl-item tl-${item.kind}${item.pending ? " is-pending" : ""}${short ? " is-short" : ""}`,
          dataset: { kind: item.kind, start: String(item.start), end: String(item.end) },
        });
        // Used by the time-grid layout of wide screens only; phones show a plain list.
        li.style.setProperty("--top", `${((item.start - low) / span) * 100}%`);
        li.style.setProperty("--height", `${((item.end - item.start) / span) * 100}%`);
        li.style.setProperty("--min-height", `${(SHORTEST_DRAWN_MINUTES / span) * 100}%`);
        if (item.lanes) {
          li.style.setProperty("--lane", String(item.lane));
          li.style.setProperty("--lanes", String(item.lanes));
        }
        if (item.kind === "slot") {
          li.append(el("span", { text: item.text, "aria-hidden": "true" }), el("span", { className: "visually-hidden", text: `${item.long} ${item.label}` }));
        } else {
          li.append(...itemContent(item));
        }
        if (item.kind === "appt" || item.kind === "busy") {
          // A block cut short by its size opens in full on focus, hover or a click (app.css).
          li.tabIndex = 0;
          li.addEventListener("click", () => li.classList.toggle("is-open"));
        }
        li.title = `${item.long || item.text} ${item.label}`;
        ul.append(li);
      }
      section.append(ul);
      if (service) section.append(dayCells(date, low, high, cellSize));
      days.push(section);
    }
    grid.replaceChildren(...days);
    $("explain-hint").hidden = !service;
    if (!service) $("explain-panel").hidden = true;
    const cells = grid.querySelectorAll(".tl-cell");
    if (cells.length) {
      const again = state.explained && grid.querySelector(`.tl-cell[data-date="${state.explained.date}"][data-minute="${state.explained.minute}"]`);
      (again || cells[0]).setAttribute("tabindex", "0");
      if (again) again.classList.add("is-selected");
    }
  }

  // ---- why a time is free or not (GET /api/admin/availability/explain) ----------------------------

  const gcd = (a, b) => (b ? gcd(b, a % b) : a);

  /** Minutes between two clickable times: the service's grid when it is that fine, else 30. */
  function cellMinutes() {
    const service = state.services.find((s) => s.slug === $("week-service").value);
    if (!service) return 30;
    let size = gcd(service.slot_step_minutes || service.duration_minutes, 60);
    const schedule = state.schedule;
    if (schedule) {
      const windows = Object.values(schedule.weekly).flat().concat(schedule.overrides.flatMap((o) => o.intervals));
      for (const [from] of windows) size = gcd(size, toMinutes(from) % 60 || 60);
    }
    return size >= 15 ? Math.min(size, 30) : 30;
  }

  /** One focusable button per time of a day: click, Enter or Space shows why it is free or not. */
  function dayCells(date, low, high, size) {
    const day = BB.capitalize(dateLabel(date, { weekday: "long", day: "numeric", month: "long" }));
    const cells = el("div", { className: "tl-cells", role: "group", "aria-label": BB.format(T.explain_day, { day }) });
    for (let minute = low; minute < high; minute += size) {
      const cell = el(
        "button",
        {
          type: "button",
          className: "tl-cell",
          tabindex: "-1",
          dataset: { date, minute: String(minute) },
          "aria-label": BB.format(T.explain_cell, { day, time: hhmm(minute) }),
        },
        [el("span", { className: "tl-cell-time", "aria-hidden": "true", text: hhmm(minute) })]
      );
      cell.style.setProperty("--top", `${((minute - low) / (high - low)) * 100}%`);
      cell.style.setProperty("--height", `${(Math.min(size, high - minute) / (high - low)) * 100}%`);
      cells.append(cell);
    }
    return cells;
  }

  /** Roving focus: one time of the week is in the tab order; the arrow keys move it. */
  function focusCell(cell) {
    for (const other of $("admin-week").querySelectorAll('.tl-cell[tabindex="0"]')) other.setAttribute("tabindex", "-1");
    cell.setAttribute("tabindex", "0");
    cell.focus();
  }

  function moveBetweenCells(event) {
    const cell = event.target.closest ? event.target.closest(".tl-cell") : null;
    if (!cell) return;
    const days = Array.from($("admin-week").querySelectorAll(".tl-cells"));
    const column = cell.parentElement;
    const dayIndex = days.indexOf(column);
    const list = Array.from(column.children);
    const index = list.indexOf(cell);
    const sameTime = (other) => (other ? other.children[Math.min(index, other.children.length - 1)] : null);
    const targets = {
      ArrowUp: () => list[index - 1],
      ArrowDown: () => list[index + 1],
      ArrowLeft: () => sameTime(days[dayIndex - 1]),
      ArrowRight: () => sameTime(days[dayIndex + 1]),
      Home: () => list[0],
      End: () => list[list.length - 1],
    };
    if (!Object.prototype.hasOwnProperty.call(targets, event.key)) return;
    event.preventDefault();
    const target = targets[event.key]();
    if (target) focusCell(target);
  }

  /** The bookings and busy blocks under a chosen time lie beneath the transparent times of the
   *  grid: choosing the time opens them in full, so a name cut short can be read. */
  function openBlocksAt(cell) {
    const minute = Number(cell.dataset.minute);
    for (const item of $("admin-week").querySelectorAll(".tl-item.is-lit")) item.classList.remove("is-lit");
    const day = $("admin-week").querySelector(`.tl-day[data-date="${cell.dataset.date}"]`);
    for (const item of day ? day.querySelectorAll(".tl-appt, .tl-busy") : []) {
      if (Number(item.dataset.start) <= minute && minute < Number(item.dataset.end)) item.classList.add("is-lit");
    }
  }

  async function explainCell(cell) {
    const service = $("week-service").value;
    if (!service) return;
    for (const other of $("admin-week").querySelectorAll(".tl-cell.is-selected")) other.classList.remove("is-selected");
    cell.classList.add("is-selected");
    openBlocksAt(cell);
    focusCell(cell);
    const { date, minute } = cell.dataset;
    const at = hhmm(Number(minute));
    state.explained = { date, minute };
    const seq = ++state.explainSeq;
    const panel = $("explain-panel");
    panel.hidden = false;
    delete panel.dataset.offered;
    $("explain-title").textContent = BB.format(T.explain_title, {
      day: BB.capitalize(dateLabel(date, { weekday: "long", day: "numeric", month: "long" })),
      time: at,
      service: serviceTitle(service),
    });
    $("explain-verdict").textContent = T.loading;
    $("explain-reasons").replaceChildren();
    const query = new URLSearchParams({ service_slug: service, start: BB.zonedInstant(date, at, state.zone), lang: app.dataset.lang });
    const answer = await BB.request("GET", `/api/admin/availability/explain?${query}`);
    if (seq !== state.explainSeq) return;
    if (!answer.ok) {
      $("explain-verdict").textContent = BB.format(T.explain_failed, { message: errorMessage(answer) });
      return;
    }
    panel.dataset.offered = String(answer.data.offered);
    $("explain-verdict").textContent = answer.data.offered ? T.explain_offered : T.explain_not_offered;
    $("explain-reasons").replaceChildren(
      ...answer.data.reasons.map((reason) => el("li", { className: `explain-reason reason-${reason.code}`, dataset: { code: reason.code }, text: reason.message }))
    );
    // Below the week: brought into view (focus stays on the time; the panel is a live region).
    const reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    panel.scrollIntoView({ block: "nearest", behavior: reduce ? "auto" : "smooth" });
  }

  function fillWeekServices() {
    const select = $("week-service");
    const current = select.value;
    const active = state.services.filter((s) => s.active);
    select.replaceChildren(
      el("option", { value: "", text: `— ${T.no_service} —` }),
      ...active.map((s) => el("option", { value: s.slug, text: serviceTitle(s.slug) }))
    );
    select.value = active.some((s) => s.slug === current) ? current : active.length ? active[0].slug : "";
  }

  // ---- bookings ---------------------------------------------------------------------------------

  async function loadAppointments() {
    const today = BB.localDate(now, state.zone);
    const query = new URLSearchParams({ from: today, to: BB.addDays(today, 60) });
    $("appointments-status").textContent = T.loading;
    const answer = await BB.request("GET", `/api/admin/appointments?${query}`);
    if (!answer.ok) {
      $("appointments-status").textContent = T.load_failed;
      return;
    }
    $("appointments-status").textContent = "";
    const list = answer.data.appointments.slice().sort((a, b) => new Date(a.start) - new Date(b.start));
    if (!list.length) {
      $("appointments").replaceChildren(el("p", { className: "empty", text: T.no_appointments }));
      return;
    }
    $("appointments").replaceChildren(el("ul", { className: "appt-list" }, list.map(appointmentItem)));
  }

  function appointmentItem(a) {
    const s = new Date(a.start);
    const e = new Date(a.end);
    const active = a.status === "confirmed" || a.status === "pending_payment";
    const state_ = a.calendar_event ? a.calendar_event.state : "pending";
    const item = el("li", { className: `appt${active ? "" : " is-inactive"}${state_ === "failed" ? " is-parked" : ""}`, dataset: { id: a.id, status: a.status, event: state_ } });
    const titleId = `appt-${a.id}`;
    const article = el("article", { "aria-labelledby": titleId });
    article.append(el("h3", { id: titleId, className: "appt-when", text: `${dayShort(s)}, ${time(s)}–${time(e)}` }));
    const who = el("p", { className: "appt-who" }, [el("strong", { text: a.client_name })]);
    if (a.client_email) who.append(" · ", el("a", { href: `mailto:${a.client_email}`, text: a.client_email }));
    else who.append(" · ", T.no_email);
    if (a.client_phone) who.append(" · ", el("a", { href: `tel:${a.client_phone.replace(/[^0-9+]/g, "")}`, text: a.client_phone }));
    article.append(who);
    const meta = el("p", { className: "appt-meta", text: serviceTitle(a.service_slug) });
    if (a.timezone !== state.zone) meta.append(` · ${BB.format(T.client_zone, { zone: BB.zoneLabel(a.timezone) })}`);
    article.append(meta);
    article.append(
      el("p", { className: "badges" }, [
        el("span", { className: `badge badge-${a.status}`, text: T[`status_${a.status}`] || a.status }),
        " ",
        el("span", { className: `badge event-${state_}`, text: T[`event_${state_}`] || state_ }),
      ])
    );
    if (a.comment) {
      article.append(el("details", { className: "appt-comment" }, [el("summary", { text: T.comment }), el("p", { text: a.comment })]));
    }
    for (const move of a.moves || []) {
      const from = new Date(move.from_start);
      article.append(el("p", { className: "appt-moved", text: BB.format(T.moved_from, { when: `${dayShort(from)}, ${time(from)}` }) }));
    }
    const message = el("p", { className: "status appt-message", role: "status", "aria-live": "polite" });
    if (active) {
      const actions = el("div", { className: "actions" });
      if (a.status === "pending_payment") {
        actions.append(el("button", { type: "button", className: "button button-small", text: T.confirm, onclick: () => confirmAppointment(a, message) }));
      }
      const question = el("div", { className: "panel panel-warn", hidden: true }, [
        el("p", { text: BB.format(T.cancel_question, { name: a.client_name }), tabindex: "-1" }),
      ]);
      const cancelButton = el("button", {
        type: "button",
        className: "button button-quiet button-small",
        text: T.cancel,
        onclick: () => {
          question.hidden = false;
          question.firstChild.focus();
        },
      });
      question.append(
        el("div", { className: "actions" }, [
          el("button", { type: "button", className: "button button-danger button-small", text: T.yes_cancel, onclick: () => cancelAppointment(a, message) }),
          el("button", {
            type: "button",
            className: "button button-quiet button-small",
            text: T.keep,
            onclick: () => {
              question.hidden = true;
              cancelButton.focus();
            },
          }),
        ])
      );
      actions.append(cancelButton);
      const mover = moveForm(a, message);
      actions.append(
        el("button", {
          type: "button",
          className: "button button-quiet button-small",
          text: T.move,
          "aria-expanded": "false",
          onclick: (event) => {
            mover.hidden = !mover.hidden;
            event.currentTarget.setAttribute("aria-expanded", String(!mover.hidden));
            if (!mover.hidden) mover.querySelector("input").focus();
          },
        })
      );
      if (a.series_id) {
        actions.append(
          el("button", {
            type: "button",
            className: "button button-quiet button-small",
            text: T.series_cancel,
            onclick: () => cancelSeries(a, message),
          })
        );
      }
      article.append(actions, question, mover);
    }
    article.append(message);
    item.append(article);
    return item;
  }

  async function confirmAppointment(a, message) {
    message.textContent = T.saving;
    const answer = await BB.request("POST", `/api/admin/appointments/${a.id}/confirm`);
    if (answer.ok) {
      await loadAppointments();
      $("appointments-status").textContent = T.confirmed_done;
      loadWeek();
    } else {
      message.textContent = answer.status === 409 ? T.conflict : BB.format(T.action_failed, { message: errorMessage(answer) });
    }
  }

  async function cancelAppointment(a, message) {
    message.textContent = T.saving;
    const answer = await BB.request("POST", `/api/admin/appointments/${a.id}/cancel`);
    if (answer.ok) {
      await loadAppointments();
      $("appointments-status").textContent = T.cancelled_done;
      BB.focus($("appointments-title"));
      loadWeek();
    } else {
      message.textContent = BB.format(T.action_failed, { message: errorMessage(answer) });
    }
  }

  function reasonText(conflict) {
    const start = new Date(conflict.start);
    return `${dayShort(start)}, ${time(start)}: ${T[`reason_${conflict.reason}`] || conflict.reason}`;
  }

  function moveForm(a, message) {
    const zoneNow = BB.localDate(new Date(a.start), state.zone);
    const date = el("input", { type: "date", value: zoneNow, "aria-label": T.date });
    const clock = el("input", { type: "time", step: "300", value: time(new Date(a.start)), "aria-label": T.move_to });
    const form = el("form", { className: "move-form", hidden: true }, [
      el("label", { text: T.move_to }),
      date,
      clock,
      el("button", { type: "submit", className: "button button-small", text: T.move }),
    ]);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!date.value || !clock.value) return;
      message.textContent = T.saving;
      const start = BB.zonedInstant(date.value, clock.value, state.zone);
      const answer = await BB.request("POST", `/api/admin/appointments/${a.id}/reschedule`, { start });
      if (answer.ok) {
        await loadAppointments();
        $("appointments-status").textContent = T.move_done;
        loadWeek();
      } else if (answer.status === 409 && answer.data && answer.data.conflicts) {
        message.textContent = `${T.bc_conflicts} ${answer.data.conflicts.map(reasonText).join("; ")}`;
      } else {
        message.textContent = BB.format(T.action_failed, { message: errorMessage(answer) });
      }
    });
    return form;
  }

  async function cancelSeries(a, message) {
    message.textContent = T.saving;
    const answer = await BB.request("POST", `/api/admin/series/${a.series_id}/cancel`);
    if (answer.ok) {
      await loadAppointments();
      $("appointments-status").textContent = BB.format(T.series_cancelled, { count: answer.data.cancelled });
      BB.focus($("appointments-title"));
      loadWeek();
    } else {
      message.textContent = BB.format(T.action_failed, { message: errorMessage(answer) });
    }
  }

  function fillBookClientServices() {
    const select = $("bc-service");
    select.replaceChildren(...state.services.map((service) => el("option", { value: service.slug, text: serviceTitle(service.slug) })));
  }

  async function bookClient(event) {
    event.preventDefault();
    const form = $("book-client-form");
    const errors = $("book-client-errors");
    const conflicts = $("bc-conflicts");
    errors.hidden = true;
    conflicts.hidden = true;
    const name = $("bc-name").value.trim();
    if (!$("bc-service").value || !$("bc-date").value || !$("bc-time").value || !name) {
      errors.textContent = T.bc_need;
      errors.hidden = false;
      BB.focus(errors);
      return;
    }
    const client = { name };
    if ($("bc-email").value.trim()) client.email = $("bc-email").value.trim();
    if ($("bc-phone").value.trim()) client.phone = $("bc-phone").value.trim();
    const weeks = Number($("bc-weeks").value || "1");
    const body = {
      service_slug: $("bc-service").value,
      start: BB.zonedInstant($("bc-date").value, $("bc-time").value, state.zone),
      timezone: state.zone,
      client,
      notify: $("bc-notify").checked,
    };
    if ($("bc-comment").value.trim()) body.comment = $("bc-comment").value.trim();
    if (weeks > 1) body.repeat = { weekly: weeks };
    $("bc-status").textContent = T.saving;
    const answer = await BB.request("POST", "/api/admin/appointments", body);
    $("bc-status").textContent = "";
    if (answer.status === 201) {
      form.reset();
      $("bc-status").textContent = BB.format(T.bc_booked, { count: answer.data.appointments.length });
      await loadAppointments();
      loadWeek();
    } else if (answer.status === 409 && answer.data && answer.data.conflicts) {
      conflicts.replaceChildren(...answer.data.conflicts.map((c) => el("li", { text: reasonText(c) })));
      errors.textContent = T.bc_conflicts;
      errors.hidden = false;
      conflicts.hidden = false;
      BB.focus(errors);
    } else {
      errors.textContent = BB.format(T.action_failed, { message: errorMessage(answer) });
      errors.hidden = false;
      BB.focus(errors);
    }
  }

  // ---- working hours and special days -------------------------------------------------------------

  function windowItem(prefix, dayName, from, until) {
    const id = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
    const li = el("li", { className: "window" });
    const fromInput = el("input", { type: "time", id: `${id}-from`, value: from || "", required: true, className: "w-from" });
    const untilInput = el("input", { type: "time", id: `${id}-until`, value: until || "", required: true, className: "w-until" });
    const remove = el("button", {
      type: "button",
      className: "icon-button",
      "aria-label": `${dayName}: ${BB.format(T.remove_hours, { from: from || "…", until: until || "…" })}`,
      text: "×",
      onclick: () => {
        const list = li.parentElement;
        const next = li.nextElementSibling || li.previousElementSibling;
        li.remove();
        syncDayOff(list);
        const target = next ? next.querySelector("input") : list.parentElement.querySelector(".add-window");
        if (target) target.focus();
      },
    });
    li.append(
      el("label", { for: `${id}-from` }, [el("span", { className: "visually-hidden", text: `${dayName}, ` }), T.from]),
      fromInput,
      el("label", { for: `${id}-until` }, [el("span", { className: "visually-hidden", text: `${dayName}, ` }), T.until]),
      untilInput,
      remove
    );
    return li;
  }

  function syncDayOff(list) {
    const off = list.parentElement.querySelector(".day-off");
    if (off) off.hidden = list.children.length > 0;
  }

  function windowsEditor(prefix, dayName, windows) {
    const wrap = el("div", { className: "windows" });
    const list = el("ul", { className: "window-list" });
    for (const [from, until] of windows) list.append(windowItem(prefix, dayName, from, until));
    const off = el("p", { className: "day-off", text: T.day_off });
    const addButton = el("button", {
      type: "button",
      className: "button button-quiet button-small add-window",
      text: `+ ${T.add_hours}`,
      "aria-label": `${dayName}: ${T.add_hours}`,
      onclick: () => {
        const last = list.lastElementChild;
        const from = last ? last.querySelector(".w-until").value || "15:00" : "10:00";
        const until = hhmm(Math.min(toMinutes(from) + 180, 1439));
        const item = windowItem(prefix, dayName, from, until);
        list.append(item);
        syncDayOff(list);
        item.querySelector("input").focus();
      },
    });
    wrap.append(list, off, addButton);
    syncDayOff(list);
    return wrap;
  }

  function renderSchedule(schedule) {
    zoneOptions($("schedule-tz"), schedule.timezone);
    const weekly = $("weekly");
    weekly.replaceChildren(
      ...DAYS.map((day) => {
        const row = el("div", { className: "day-row", dataset: { day } });
        row.append(el("h3", { className: "day-name", id: `wd-${day}`, text: T[day] }), windowsEditor(`wk-${day}`, T[day], schedule.weekly[day] || []));
        return row;
      })
    );
    $("overrides").replaceChildren(...schedule.overrides.map((o) => overrideRow(o.date, o.intervals)));
    $("vacations").replaceChildren(...(schedule.vacations || []).map((v) => vacationRow(v.from, v.to)));
  }

  /** One vacation: the first and the last day off (both included), entered once. */
  function vacationRow(from, to) {
    const n = ++state.overrideSeq;
    const row = el("div", { className: "vacation-row" });
    const date = (className, id, label, value) =>
      el("div", { className: "field" }, [el("label", { for: id, text: label }), el("input", { type: "date", id, className, value: value || "", required: true })]);
    const length = el("p", { className: "hint vacation-length", "aria-live": "polite" });
    const showLength = () => {
      const first = row.querySelector(".vac-from").value;
      const last = row.querySelector(".vac-to").value;
      const days = first && last ? Math.round((BB.dateOnly(last) - BB.dateOnly(first)) / 86400000) + 1 : 0;
      length.textContent = days > 0 ? BB.format(T.vacation_length, { num: days }) : "";
    };
    row.append(
      date("vac-from", `vac-${n}-from`, T.vacation_from, from),
      date("vac-to", `vac-${n}-to`, T.vacation_to, to),
      length,
      el("button", {
        type: "button",
        className: "button button-quiet button-small",
        text: T.remove_vacation,
        onclick: () => {
          row.remove();
          $("add-vacation").focus();
        },
      })
    );
    row.addEventListener("input", showLength);
    showLength();
    return row;
  }

  function collectVacations(errors) {
    const vacations = [];
    for (const row of $("vacations").querySelectorAll(".vacation-row")) {
      const fromInput = row.querySelector(".vac-from");
      const toInput = row.querySelector(".vac-to");
      const [from, to] = [fromInput.value, toInput.value];
      if (!from || !to) {
        errors.push([from ? toInput : fromInput, T.missing_vacation]);
        continue;
      }
      const range = BB.format(T.week_range, {
        start: dateLabel(from, { day: "numeric", month: "long" }),
        end: dateLabel(to, { day: "numeric", month: "long", year: "numeric" }),
      });
      const days = Math.round((BB.dateOnly(to) - BB.dateOnly(from)) / 86400000) + 1;
      if (days < 1) errors.push([toInput, BB.format(T.vacation_reversed, { range })]);
      else if (days > 366) errors.push([toInput, BB.format(T.vacation_too_long, { range })]);
      else vacations.push({ from, to, input: fromInput, range });
    }
    vacations.sort((a, b) => (a.from < b.from ? -1 : 1));
    for (let i = 1; i < vacations.length; i++) {
      if (vacations[i].from <= vacations[i - 1].to) errors.push([vacations[i].input, BB.format(T.vacation_overlap, { range: vacations[i].range })]);
    }
    return vacations.map(({ from, to }) => ({ from, to }));
  }

  function overrideRow(date, intervals) {
    const n = ++state.overrideSeq;
    const row = el("div", { className: "override-row" });
    const dateId = `ov-${n}-date`;
    const dateField = el("div", { className: "field" }, [
      el("label", { for: dateId, text: T.date }),
      el("input", { type: "date", id: dateId, value: date || "", className: "ov-date", required: true }),
    ]);
    const label = () => {
      const value = row.querySelector(".ov-date").value;
      return value ? dateLabel(value, { day: "numeric", month: "long", year: "numeric" }) : T.date;
    };
    row.append(dateField);
    row.append(
      windowsEditor(`ov-${n}`, label(), intervals),
      el("button", {
        type: "button",
        className: "button button-quiet button-small",
        text: T.remove_day,
        onclick: () => {
          row.remove();
          $("add-override").focus();
        },
      })
    );
    return row;
  }

  function readWindows(container, dayName, errors) {
    const windows = [];
    for (const item of container.querySelectorAll(".window")) {
      const from = item.querySelector(".w-from").value;
      const until = item.querySelector(".w-until").value;
      if (!from || !until) {
        errors.push([item.querySelector(from ? ".w-until" : ".w-from"), BB.format(T.missing_time, { day: dayName })]);
        continue;
      }
      if (toMinutes(until) <= toMinutes(from)) {
        errors.push([item.querySelector(".w-until"), BB.format(T.bad_window, { day: dayName })]);
        continue;
      }
      windows.push([from.slice(0, 5), until.slice(0, 5)]);
    }
    windows.sort((a, b) => toMinutes(a[0]) - toMinutes(b[0]));
    for (let i = 1; i < windows.length; i++) {
      if (toMinutes(windows[i][0]) < toMinutes(windows[i - 1][1])) {
        errors.push([container.querySelector(".w-from"), BB.format(T.overlap, { day: dayName })]);
        break;
      }
    }
    return windows;
  }

  function collectSchedule() {
    const errors = [];
    const weekly = {};
    for (const row of $("weekly").querySelectorAll(".day-row")) {
      weekly[row.dataset.day] = readWindows(row, T[row.dataset.day], errors);
    }
    const overrides = [];
    const seen = new Set();
    for (const row of $("overrides").querySelectorAll(".override-row")) {
      const dateInput = row.querySelector(".ov-date");
      const date = dateInput.value;
      if (!date) {
        errors.push([dateInput, T.missing_date]);
        continue;
      }
      const label = dateLabel(date, { day: "numeric", month: "long", year: "numeric" });
      if (seen.has(date)) errors.push([dateInput, BB.format(T.duplicate_date, { day: label })]);
      seen.add(date);
      overrides.push({ date, intervals: readWindows(row, label, errors) });
    }
    overrides.sort((a, b) => (a.date < b.date ? -1 : 1));
    const vacations = collectVacations(errors);
    return { schedule: { timezone: $("schedule-tz").value, weekly, overrides, vacations }, errors };
  }

  async function saveSchedule(event) {
    event.preventDefault();
    const box = $("schedule-errors");
    box.hidden = true;
    for (const input of $("schedule-form").querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    const { schedule, errors } = collectSchedule();
    if (errors.length) {
      for (const [input] of errors) if (input) input.setAttribute("aria-invalid", "true");
      box.replaceChildren(el("ul", {}, errors.map(([, message]) => el("li", { text: message }))));
      box.hidden = false;
      BB.focus(box);
      return;
    }
    $("schedule-status").textContent = T.saving;
    const answer = await BB.request("PUT", "/api/admin/schedule", schedule);
    if (!answer.ok) {
      $("schedule-status").textContent = "";
      box.replaceChildren(el("p", { text: BB.format(T.save_failed, { message: errorMessage(answer) }) }));
      box.hidden = false;
      BB.focus(box);
      return;
    }
    state.schedule = answer.data;
    state.zone = answer.data.timezone;
    $("schedule-status").textContent = T.saved;
    loadWeek();
  }

  // ---- kinds of meeting ---------------------------------------------------------------------------

  const SERVICE_FIELDS = [
    ["title", "text", "f_title", true],
    ["title_en", "text", "f_title_en", false],
    ["duration_minutes", "number", "f_duration", true],
    ["buffer_before_minutes", "number", "f_buffer_before", true],
    ["buffer_after_minutes", "number", "f_buffer_after", true],
    ["slot_step_minutes", "number", "f_step", false],
    ["min_notice_minutes", "number", "f_notice", true],
    ["max_days_ahead", "number", "f_days", true],
    ["change_cutoff_minutes", "number", "f_cutoff", true],
    ["daily_limit", "number", "f_limit", false],
  ];

  let formSeq = 0;
  const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
  const CURRENCIES = ["RUB", "EUR", "USD", "KZT", "BYN", "GEL", "AMD"];
  const FORMATS = [["either", "format_either"], ["online", "format_online"], ["in_person", "format_in_person"]];

  /** What clients read about the kind of meeting: description, price, format, place (API.md UX round 2). */
  function aboutFields(n, service, fields) {
    const value = (name) => (service ? service[name] : SERVICE_DEFAULTS[name]);
    const field = (name, label, control, hint) => {
      control.id = `sf-${n}-${name}`;
      control.name = name;
      fields[name] = control;
      const hintId = hint ? `${control.id}-hint` : null;
      if (hintId) control.setAttribute("aria-describedby", hintId);
      return el("div", { className: "field" }, [
        el("label", { for: control.id, text: T[label] }),
        control,
        hint ? el("p", { className: "hint", id: hintId, text: T[hint] }) : null,
      ]);
    };
    const text = (name, rows, max) => el("textarea", { rows: String(rows), maxlength: String(max), text: value(name) || "" });
    const price = value("price");
    const currency = el("select", {}, CURRENCIES.concat(price && !CURRENCIES.includes(price.currency) ? [price.currency] : []).map((code) => el("option", { value: code, text: code })));
    currency.value = price ? price.currency : "RUB";
    const format = el("select", {}, FORMATS.map(([code, label]) => el("option", { value: code, text: T[label] })));
    format.value = value("format") || "either";
    const amount = el("input", { type: "text", inputmode: "decimal", autocomplete: "off", maxlength: "12", value: price ? price.amount.replace(/\.00$/, "") : "" });
    return el("fieldset", { className: "service-about-fields" }, [
      el("legend", { text: T.about_legend }),
      field("description", "f_description", text("description", 4, 2000), "f_description_hint"),
      field("description_en", "f_description_en", text("description_en", 3, 2000), null),
      el("div", { className: "form-grid" }, [field("price_amount", "f_price", amount, "f_price_hint"), field("price_currency", "f_currency", currency, null)]),
      field("format", "f_format", format, null),
      field("location", "f_location", text("location", 2, 500), "f_location_hint"),
    ]);
  }

  function aboutBody(fields, body) {
    for (const name of ["description", "description_en", "location"]) {
      const raw = fields[name].value.trim();
      body[name] = raw === "" ? null : raw;
    }
    body.format = fields.format.value;
    // "3 500,50" as people type it -> "3500.50"; the server checks the rest.
    const amount = fields.price_amount.value.replace(/[\s\u00a0]/g, "").replace(",", ".");
    body.price = amount === "" ? null : { amount, currency: fields.price_currency.value };
  }

  /** The admin's words for a refused field (never the API's English or a pattern). */
  function fieldProblem(field, labels) {
    if (field === "slug") return T.bad_slug;
    if (field === "price.amount" || field === "price") return T.bad_price;
    if (field === "price.currency") return T.bad_currency;
    const label = labels[field];
    return label ? BB.format(T.check_field, { field: label }) : null;
  }

  // ---- the notice and the slot step of the service form ----

  const NOTICE_UNITS = [
    ["minutes", 1],
    ["hours", 60],
    ["days", 1440],
  ];

  /** The notice as a number and a unit (the API keeps minutes): 2880 -> 2 days, 90 -> 90 min. */
  function noticeField(id, minutes) {
    const total = Number(minutes) || 0;
    const [unit, size] = NOTICE_UNITS.slice().reverse().find(([, each]) => total === 0 ? each === 60 : total % each === 0);
    const number = el("input", { id, name: "min_notice_minutes", type: "number", min: "0", step: "any", inputmode: "decimal", required: true, value: String(total / size) });
    const select = el(
      "select",
      { className: "notice-unit", "aria-label": T.notice_unit },
      NOTICE_UNITS.map(([name]) => el("option", { value: name, text: T[`unit_${name}`] }))
    );
    select.value = unit;
    // Read like the plain inputs of the form (value, setAttribute), in minutes.
    const field = {
      get value() {
        const raw = number.value.trim();
        const minutes = Number(raw) * NOTICE_UNITS.find(([name]) => name === select.value)[1];
        // 1.5 hours is 90 minutes; anything else goes to the API as typed, to be refused there.
        return raw !== "" && Number.isFinite(minutes) && minutes >= 0 ? String(Math.round(minutes)) : raw;
      },
      setAttribute: (name, value) => number.setAttribute(name, value),
      removeAttribute: (name) => number.removeAttribute(name),
    };
    return { field, control: el("div", { className: "with-unit" }, [number, select]) };
  }

  /** True if starts every `minutes` keep to the clock (as the API checks: web/schemas.py). */
  const fitsClock = (minutes) => (60 % minutes === 0 && minutes % 5 === 0) || minutes % 15 === 0;
  const CLOCK_STEPS = [5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240];

  /** What an empty step means on this page: one meeting after another when the length keeps to
   *  the clock, else the next step that does (a 50-minute session starts every hour, not at
   *  10:00, 10:50, 11:40). null: back to back (the API's own default). */
  function emptyStep(duration) {
    if (!(duration >= 5) || fitsClock(duration)) return null;
    return CLOCK_STEPS.find((step) => step >= duration) || null;
  }

  /** "Starts: 10:00, 11:00, 12:00 …" for a step (or the length), from the first working hours. */
  function stepPreview(step) {
    const windows = state.schedule ? DAYS.map((day) => state.schedule.weekly[day] || []).find((list) => list.length) : null;
    const [from, until] = windows ? windows[0] : ["10:00", "18:00"];
    const starts = [];
    for (let m = toMinutes(from); m < toMinutes(until) && starts.length < 4; m += step) starts.push(hhmm(m));
    return BB.format(T.step_preview, { times: `${starts.join(", ")} …` });
  }

  function serviceForm(service, onDone) {
    const n = ++formSeq;
    const form = el("form", { className: "form service-form", novalidate: true });
    const fields = {};
    const stepHints = [];
    const list = service ? SERVICE_FIELDS : [["slug", "text", "f_slug", true], ...SERVICE_FIELDS];
    const grid = el("div", { className: "form-grid" });
    for (const [name, type, label, required] of list) {
      const id = `sf-${n}-${name}`;
      const value = service ? service[name] : SERVICE_DEFAULTS[name];
      if (name === "min_notice_minutes") {
        const notice = noticeField(id, value);
        fields[name] = notice.field;
        grid.append(el("div", { className: "field" }, [el("label", { for: id, text: T[label] }), notice.control]));
        continue;
      }
      const input = el("input", {
        id,
        name,
        type,
        required,
        min: type === "number" ? "0" : null,
        inputmode: type === "number" ? "numeric" : null,
        value: value === null || value === undefined ? "" : String(value),
      });
      fields[name] = input;
      const field = el("div", { className: "field" }, [el("label", { for: id, text: T[label] }), input]);
      if (name === "slot_step_minutes") {
        Object.assign(input, { min: "5", max: "240", step: "5" });
        const hint = el("p", { className: "hint", id: `${id}-hint`, "aria-live": "polite" });
        input.setAttribute("aria-describedby", hint.id);
        field.append(hint);
        stepHints.push(hint);
      }
      grid.append(field);
    }
    form.append(grid, aboutFields(n, service, fields));
    // The step's hint says what the step gives, as it is typed (an empty one included).
    const showStep = () => {
      const duration = Number(fields.duration_minutes.value);
      const raw = fields.slot_step_minutes.value.trim();
      const step = raw === "" ? emptyStep(duration) || duration : Number(raw);
      stepHints[0].textContent = step >= 5 && step <= 240 && Number.isInteger(step) ? stepPreview(step) : T.step_invalid;
    };
    fields.duration_minutes.addEventListener("input", showStep);
    fields.slot_step_minutes.addEventListener("input", showStep);
    showStep();
    for (const [name, label, initial] of [
      ["requires_payment", "f_payment", service ? service.requires_payment : SERVICE_DEFAULTS.requires_payment === true],
      ["active", "f_active", service ? service.active : SERVICE_DEFAULTS.active !== false],
    ]) {
      const id = `sf-${n}-${name}`;
      const box = el("input", { type: "checkbox", id, name, checked: initial });
      fields[name] = box;
      form.append(el("div", { className: "check" }, [box, el("label", { for: id, text: T[label] })]));
    }
    const error = el("div", { className: "message message-error", role: "alert", hidden: true, tabindex: "-1" });
    const status = el("p", { className: "status", role: "status", "aria-live": "polite" });
    form.append(error, el("div", { className: "submit-row" }, [el("button", { type: "submit", className: "button", text: service ? T.save : T.add }), status]));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      const body = {};
      for (const [name, type] of list) {
        const raw = fields[name].value.trim();
        if (type === "number") body[name] = raw === "" ? null : Number(raw);
        else body[name] = raw === "" ? null : raw;
      }
      body.requires_payment = fields.requires_payment.checked;
      body.active = fields.active.checked;
      aboutBody(fields, body);
      const step = body.slot_step_minutes;
      if (service && fields.slot_step_minutes.value.trim() === String(service.slot_step_minutes)) {
        // The API shows a service's effective step (its length when none was set): sent back
        // unchanged it would pin that step, so it is sent only when it was changed.
        delete body.slot_step_minutes;
      } else if (step === null) {
        body.slot_step_minutes = emptyStep(body.duration_minutes);
      } else if (!(Number.isInteger(step) && step >= 5 && step <= 240 && fitsClock(step))) {
        fields.slot_step_minutes.setAttribute("aria-invalid", "true");
        error.textContent = T.step_invalid;
        error.hidden = false;
        BB.focus(error);
        return;
      }
      if (!service) {
        for (const key of Object.keys(body)) if (body[key] === null) delete body[key];
      }
      for (const input of Object.values(fields)) input.removeAttribute("aria-invalid");
      if (!service && !SLUG.test(body.slug || "")) {
        fields.slug.setAttribute("aria-invalid", "true");
        error.textContent = T.bad_slug;
        error.hidden = false;
        BB.focus(error);
        return;
      }
      status.textContent = T.saving;
      const answer = service
        ? await BB.request("PATCH", `/api/admin/services/${encodeURIComponent(service.slug)}`, body)
        : await BB.request("POST", "/api/admin/services", body);
      status.textContent = "";
      if (answer.ok) {
        onDone(service ? T.service_saved : T.service_created);
        return;
      }
      const field = BB.errorField(answer);
      const input = field && (fields[field] || fields[field.replace(".", "_")] || (field === "price" ? fields.price_amount : null));
      if (input) input.setAttribute("aria-invalid", "true");
      const labels = Object.fromEntries(list.map(([name, , label]) => [name, T[label]]));
      Object.assign(labels, { description: T.f_description, description_en: T.f_description_en, format: T.f_format, location: T.f_location });
      const problem = answer.status === 422 ? fieldProblem(field, labels) : null;
      error.textContent = problem || BB.format(T.save_failed, { message: errorMessage(answer) });
      error.hidden = false;
      BB.focus(error);
    });
    return form;
  }

  async function loadServices() {
    const answer = await BB.request("GET", "/api/admin/services");
    if (!answer.ok) {
      $("services-status").textContent = T.load_failed;
      return false;
    }
    state.services = answer.data.services;
    fillBookClientServices();
    renderServices();
    fillWeekServices();
    return true;
  }

  async function servicesChanged(message) {
    await loadServices();
    $("services-status").textContent = message;
    loadWeek();
  }

  function renderServices() {
    const list = $("services-list");
    if (!state.services.length) {
      list.replaceChildren(el("p", { className: "empty", text: T.services_empty }));
    } else {
      list.replaceChildren(el("ul", { className: "service-list" }, state.services.map(serviceItem)));
    }
    const holder = $("new-service-form");
    holder.replaceChildren(
      serviceForm(null, (message) => {
        $("new-service").open = false;
        servicesChanged(message);
      })
    );
  }

  function serviceItem(service) {
    const item = el("li", { className: `service${service.active ? "" : " is-inactive"}`, dataset: { slug: service.slug } });
    const titleId = `svc-${service.slug}`;
    const meta = [BB.format(T.minutes, { num: service.duration_minutes })];
    if (service.requires_payment) meta.push(T.paid);
    if (!service.active) meta.push(T.inactive);
    // The page's language names the heading; the other title is the hint under it.
    const english = app.dataset.lang === "en" && service.title_en;
    const heading = english ? service.title_en : service.title;
    const other = english ? el("p", { className: "hint", lang: "ru", text: service.title }) : service.title_en ? el("p", { className: "hint", lang: "en", text: service.title_en }) : null;
    if (service.price) {
      const amount = Number(service.price.amount);
      const digits = Number.isInteger(amount) ? 0 : 2;
      meta.push(new Intl.NumberFormat(locale, { style: "currency", currency: service.price.currency, minimumFractionDigits: digits, maximumFractionDigits: digits }).format(amount));
    }
    meta.push(T[`format_${service.format}`]);
    const head = el("div", { className: "service-head" }, [
      el("div", {}, [
        el("h3", { id: titleId, text: heading, lang: english ? "en" : null }),
        other,
        el("p", { className: "service-meta", text: `${service.slug} · ${meta.join(" · ")}` }),
      ]),
    ]);
    const editor = el("div", { className: "service-editor", hidden: true });
    const question = el("div", { className: "panel panel-warn", hidden: true }, [
      el("p", { tabindex: "-1", text: BB.format(T.delete_question, { title: serviceTitle(service.slug) }) }),
    ]);
    const editButton = el("button", {
      type: "button",
      className: "button button-quiet button-small",
      text: T.edit,
      "aria-expanded": "false",
      "aria-describedby": titleId,
      onclick: () => {
        const open = editor.hidden;
        editor.hidden = !open;
        editButton.setAttribute("aria-expanded", String(open));
        if (open) {
          editor.replaceChildren(serviceForm(service, (message) => servicesChanged(message)));
          editor.querySelector("input").focus();
        }
      },
    });
    const deleteButton = el("button", {
      type: "button",
      className: "button button-quiet button-small",
      text: T.delete,
      "aria-describedby": titleId,
      onclick: () => {
        question.hidden = false;
        question.firstChild.focus();
      },
    });
    question.append(
      el("div", { className: "actions" }, [
        el("button", {
          type: "button",
          className: "button button-danger button-small",
          text: T.yes_delete,
          onclick: async () => {
            const answer = await BB.request("DELETE", `/api/admin/services/${encodeURIComponent(service.slug)}`);
            if (answer.ok) servicesChanged(T.deleted);
            else $("services-status").textContent = BB.format(T.action_failed, { message: errorMessage(answer) });
          },
        }),
        el("button", {
          type: "button",
          className: "button button-quiet button-small",
          text: T.keep,
          onclick: () => {
            question.hidden = true;
            deleteButton.focus();
          },
        }),
      ])
    );
    head.append(el("div", { className: "actions" }, [editButton, deleteButton]));
    item.append(head, question, editor);
    return item;
  }

  // ---- waiting list -------------------------------------------------------------------------------

  async function loadWaitlist() {
    const answer = await BB.request("GET", "/api/admin/waitlist");
    if (!answer.ok) {
      $("waitlist-status").textContent = T.load_failed;
      return;
    }
    const entries = answer.data.entries;
    if (!entries.length) {
      $("waitlist").replaceChildren(el("p", { className: "empty", text: T.waitlist_empty }));
      return;
    }
    $("waitlist").replaceChildren(
      el(
        "ul",
        { className: "waitlist" },
        entries.map((entry) => {
          const li = el("li", { className: "waitlist-entry" });
          const who = el("p", {}, [el("strong", { text: entry.name }), " · ", el("a", { href: `mailto:${entry.email}`, text: entry.email })]);
          if (entry.phone) who.append(" · ", el("a", { href: `tel:${entry.phone.replace(/[^0-9+]/g, "")}`, text: entry.phone }));
          li.append(who);
          li.append(
            el("p", {
              className: "hint",
              text: `${serviceTitle(entry.service_slug)} · ${BB.format(T.client_zone, { zone: BB.zoneLabel(entry.timezone) })} · ${BB.format(T.asked_at, {
                when: `${dayShort(new Date(entry.created_at))}, ${time(new Date(entry.created_at))}`,
              })}`,
            })
          );
          if (entry.preferred_from && entry.preferred_to) {
            li.append(
              el("p", {
                className: "hint",
                text: BB.format(T.preferred, { from: dayShort(new Date(entry.preferred_from)), until: dayShort(new Date(entry.preferred_to)) }),
              })
            );
          }
          if (entry.comment) li.append(el("p", { className: "comment", text: entry.comment }));
          li.append(waitlistState(entry));
          li.append(removeEntryControl(entry, li));
          return li;
        })
      )
    );
  }

  /** "Waiting", "Offered: Thu 3 Dec, 11:00 — held until 12:05", "Booked", "Offer not answered". */
  function waitlistState(entry) {
    const line = el("p", { className: "waitlist-state" });
    const badge = el("span", {
      className: `badge badge-wl-${entry.status}`,
      text: T[`wl_${entry.status}`] || entry.status,
    });
    line.append(badge);
    if (entry.status === "offered" && entry.offer) {
      const start = new Date(entry.offer.start);
      const until = new Date(entry.offer.expires_at);
      line.append(
        " ",
        BB.format(T.wl_offer, {
          when: `${dayShort(start)}, ${time(start)}`,
          until: time(until),
        })
      );
    }
    return line;
  }

  function removeEntryControl(entry, item) {
    const box = el("div", { className: "actions" });
    const status = el("p", { className: "status", role: "status" });
    const remove = el("button", {
      type: "button",
      className: "button button-quiet button-small",
      text: T.wl_remove,
      "aria-label": BB.format(T.wl_remove_label, { name: entry.name }),
      onclick: () => {
        remove.hidden = true;
        confirmBox.hidden = false;
        yes.focus();
      },
    });
    const yes = el("button", {
      type: "button",
      className: "button button-danger button-small",
      text: T.wl_remove_yes,
      onclick: async () => {
        const answer = await BB.request("DELETE", `/api/admin/waitlist/${encodeURIComponent(entry.id)}`);
        if (answer.ok || answer.status === 404) {
          $("waitlist-status").textContent = T.wl_removed;
          item.remove();
          if (!$("waitlist").querySelector("li")) loadWaitlist();
          loadWeek();
        } else {
          status.textContent = T.load_failed;
        }
      },
    });
    const no = el("button", {
      type: "button",
      className: "button button-quiet button-small",
      text: T.wl_keep,
      onclick: () => {
        confirmBox.hidden = true;
        remove.hidden = false;
        remove.focus();
      },
    });
    const question = BB.format(T.wl_remove_question, { name: entry.name });
    const confirmBox = el("div", { className: "actions", role: "group", "aria-label": question, hidden: true }, [
      el("span", { text: question }),
    ]);
    if (entry.status === "offered" && entry.offer) {
      // Removing someone who is being offered a time releases it: say so before they confirm.
      const start = new Date(entry.offer.start);
      confirmBox.append(
        el("span", { className: "hint", text: BB.format(T.wl_remove_offered, { when: `${dayShort(start)}, ${time(start)}` }) })
      );
    }
    confirmBox.append(yes, no);
    box.append(remove, confirmBox, status);
    return box;
  }

  // ---- start ------------------------------------------------------------------------------------

  async function start() {
    $("admin-week-prev").addEventListener("click", () => {
      state.week -= 1;
      loadWeek();
    });
    $("admin-week-next").addEventListener("click", () => {
      state.week += 1;
      loadWeek();
    });
    $("week-service").addEventListener("change", () => {
      state.explained = null;
      $("explain-panel").hidden = true;
      loadWeek();
    });
    $("admin-week").addEventListener("keydown", moveBetweenCells);
    $("admin-week").addEventListener("click", (event) => {
      const cell = event.target.closest ? event.target.closest(".tl-cell") : null;
      if (cell) explainCell(cell);
    });
    $("explain-close").addEventListener("click", () => {
      $("explain-panel").hidden = true;
      for (const item of $("admin-week").querySelectorAll(".tl-item.is-lit")) item.classList.remove("is-lit");
      const selected = $("admin-week").querySelector(".tl-cell.is-selected");
      if (selected) {
        selected.classList.remove("is-selected");
        selected.focus();
      }
      state.explained = null;
    });
    $("schedule-form").addEventListener("submit", saveSchedule);
    $("book-client-form").addEventListener("submit", bookClient);
    $("add-override").addEventListener("click", () => {
      const row = overrideRow(BB.addDays(BB.localDate(now, state.zone), 1), []);
      $("overrides").append(row);
      row.querySelector("input").focus();
    });
    $("add-vacation").addEventListener("click", () => {
      const first = BB.addDays(BB.localDate(now, state.zone), 1);
      const row = vacationRow(first, BB.addDays(first, 6));
      $("vacations").append(row);
      row.querySelector("input").focus();
    });
    const [schedule] = await Promise.all([BB.request("GET", "/api/admin/schedule"), loadServices()]);
    if (schedule.ok) {
      state.schedule = schedule.data;
      state.zone = schedule.data.timezone;
      renderSchedule(schedule.data);
    } else {
      $("schedule-status").textContent = T.load_failed;
    }
    loadWeek();
    loadAppointments();
    loadWaitlist();
  }

  start();
})();
