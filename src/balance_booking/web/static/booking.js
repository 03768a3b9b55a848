/* /booking/slot/: service -> week of free slots in the visitor's zone -> form -> confirmation. */
(function () {
  "use strict";
  const root = document.getElementById("booking");
  if (!root || !window.BB) return;
  const BB = window.BB;
  const T = BB.texts("booking-text");
  const $ = (id) => document.getElementById(id);
  const lang = root.dataset.lang;
  const locale = BB.locale(lang);
  // "Now" comes from the server, so the first week shown matches the server's idea of today.
  const now = new Date(root.dataset.now);
  const ownerZone = root.dataset.ownerTz;
  const ZONE_KEY = "bb_tz";
  // After this long without an answer the booking's status says the calendar check is slow.
  const SLOW_AFTER_MS = 2000;
  // The picker's zones (CLDR's canonical ones, city names in the page's language, offsets now)
  // and the legacy names that map to them: [id, city, country, offset, English city].
  const zoneData = BB.texts("tz-data");
  const zoneAliases = zoneData.aliases || {};
  const zoneInfo = new Map(
    (zoneData.zones || []).map((z) => [z[0], { id: z[0], city: z[1], country: z[2], offset: z[3], en: z[4] }])
  );
  const UTC_ZONE = "Etc/UTC";
  // "Move to another time" from the manage page: the same week, then a move instead of a booking.
  const moveId = root.dataset.moveId || null;
  const moveToken = root.dataset.moveToken || null;

  const state = {
    service: null,
    zone: initialZone(),
    cycle: BB.hourCycle(root.dataset.hourCycle),
    week: 0,
    shown: null, // the week on screen: {start, slots}, drawn again when the clock changes
    month: null, // "YYYY-MM" of the month overview (phones)
    focusDay: null, // a day picked in the month overview, revealed once its week is drawn
    slot: null,
    loadSeq: 0,
    idempotency: null,
    sending: false,
    debounce: null,
  };

  /** A legacy name (Asia/Katmandu, Europe/Kiev: what Chromium reports) as its canonical zone. */
  function canonicalZone(name) {
    const canonical = zoneAliases[name] || name;
    return isZone(canonical) ? canonical : name;
  }

  function initialZone() {
    // A link may name a zone (?tz=), then the visitor's last choice, then the browser's zone.
    const candidates = [new URL(window.location.href).searchParams.get("tz")];
    try {
      candidates.push(window.localStorage.getItem(ZONE_KEY));
    } catch (error) {
      /* private mode */
    }
    try {
      candidates.push(Intl.DateTimeFormat().resolvedOptions().timeZone);
    } catch (error) {
      /* fall through to the practitioner's zone */
    }
    for (const candidate of candidates) {
      if (candidate && isZone(candidate)) return canonicalZone(candidate);
    }
    return canonicalZone(ownerZone);
  }

  function isZone(name) {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: name });
      return true;
    } catch (error) {
      return false;
    }
  }

  // ---- formatting in the visitor's zone ------------------------------------------------------

  function fmt(date, options, zone) {
    return new Intl.DateTimeFormat(locale, Object.assign({ timeZone: zone || state.zone }, options)).format(date);
  }
  const time = (date, zone) => BB.formatTime(date, zone || state.zone, lang, state.cycle);
  const dayLong = (date, zone) => fmt(date, { weekday: "long", day: "numeric", month: "long" }, zone);
  const dayWithYear = (date, zone) =>
    fmt(date, { weekday: "long", day: "numeric", month: "long", year: "numeric" }, zone);
  const dateHeading = (isoDate) =>
    BB.capitalize(
      new Intl.DateTimeFormat(locale, { weekday: "short", day: "numeric", month: "long", timeZone: "UTC" }).format(
        BB.dateOnly(isoDate)
      )
    );
  const dateShort = (isoDate) =>
    new Intl.DateTimeFormat(locale, { day: "numeric", month: "long", timeZone: "UTC" }).format(BB.dateOnly(isoDate));

  // ---- time zone ----------------------------------------------------------------------------

  /** "Катманду (UTC+05:45)": the zone's city in the page's language and its offset at `at`. */
  function zoneLabel(zone, at) {
    const canonical = canonicalZone(zone);
    if (canonical === UTC_ZONE) return "UTC";
    const info = zoneInfo.get(canonical);
    const offset = BB.offsetLabel(canonical, at || now).replace("-", "\u2212");
    return `${info ? info.city : BB.zoneLabel(canonical)} (${offset})`;
  }

  // Search ignores case, accents and ё/е, and the "й" of "Нью-Йорк" typed as "и".
  const fold = (text) =>
    String(text)
      .toLocaleLowerCase()
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .replace(/ё/g, "е")
      .replace(/[_/]/g, " ");

  const picker = { options: [], active: -1, announce: null };

  function fillZones() {
    const input = $("tz-input");
    const list = $("tz-list");
    // A zone not on the list (the browser's Etc/GMT+5, an owner's alias) is still offered.
    for (const zone of [state.zone, canonicalZone(ownerZone)]) {
      if (!zoneInfo.has(zone)) {
        zoneInfo.set(zone, { id: zone, city: BB.zoneLabel(zone), country: "", offset: BB.offsetLabel(zone, now).replace("-", "\u2212"), en: "" });
      }
    }
    const aliasesOf = new Map();
    for (const [alias, zone] of Object.entries(zoneAliases)) {
      if (!aliasesOf.has(zone)) aliasesOf.set(zone, []);
      aliasesOf.get(zone).push(alias);
    }
    const fragment = document.createDocumentFragment();
    let index = 0;
    for (const info of zoneInfo.values()) {
      const option = BB.el("li", { id: `tz-opt-${index++}`, role: "option", "aria-selected": "false", dataset: { zone: info.id } }, [
        BB.el("span", { className: "combo-city", text: info.id === UTC_ZONE ? "UTC" : info.city }),
        BB.el("span", { className: "combo-meta", text: [info.country, info.offset].filter(Boolean).join(" · ") }),
      ]);
      // The offset is found typed with a plain hyphen too ("utc-5").
      const offsets = [info.offset, info.offset.replace("\u2212", "-").replace(/([+-])0/, "$1")];
      const words = [info.city, info.country, info.en, info.id, ...offsets, ...(aliasesOf.get(info.id) || [])];
      picker.options.push({ element: option, position: index, zone: info.id, city: fold(info.city), haystack: fold(words.join(" ")) });
      fragment.append(option);
    }
    list.replaceChildren(fragment);
    input.addEventListener("focus", () => {
      input.select();
      openList("");
    });
    input.addEventListener("click", () => {
      if (list.hidden) openList("");
    });
    input.addEventListener("input", () => openList(input.value));
    input.addEventListener("keydown", onPickerKey);
    input.addEventListener("blur", () => closeList());
    // Keep focus in the input while an option is clicked or tapped.
    list.addEventListener("mousedown", (event) => event.preventDefault());
    list.addEventListener("click", (event) => {
      const option = event.target.closest('[role="option"]');
      if (option) chooseZone(option.dataset.zone);
    });
    showZone();
  }

  function visibleOptions() {
    return picker.options.filter((option) => !option.element.hidden);
  }

  function openList(query) {
    const input = $("tz-input");
    const list = $("tz-list");
    const words = fold(query).split(/\s+/).filter(Boolean);
    const phrase = words.join(" ");
    const ranked = [];
    for (const option of picker.options) {
      const match = words.every((word) => option.haystack.includes(word));
      option.element.hidden = !match;
      option.element.setAttribute("aria-selected", String(option.zone === state.zone));
      if (!match) continue;
      // The city itself first ("кат": Катманду before Екатеринбург), then a word of any name.
      let rank = 2;
      if (option.city.startsWith(phrase)) rank = 0;
      else if ((" " + option.haystack).includes(" " + words[0])) rank = 1;
      ranked.push([words.length ? rank : 0, option.position, option]);
    }
    ranked.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const order = ranked.map((entry) => entry[2]);
    picker.options = order.concat(picker.options.filter((option) => option.element.hidden));
    // The visible options in their order, so the list reads and arrows move as it is sorted.
    list.append(...picker.options.map((option) => option.element));
    const count = ranked.length;
    list.hidden = count === 0;
    input.setAttribute("aria-expanded", String(count > 0));
    $("tz-none").hidden = count > 0;
    const visible = visibleOptions();
    const current = visible.findIndex((option) => option.zone === state.zone);
    setActive(words.length ? 0 : current, visible);
    // A short pause before the count is read, so it is said once per burst of typing.
    window.clearTimeout(picker.announce);
    picker.announce = window.setTimeout(() => {
      $("tz-count").textContent = words.length ? BB.format(count ? T.tz_found : T.tz_none, { count }) : "";
    }, 400);
  }

  function closeList() {
    const input = $("tz-input");
    $("tz-list").hidden = true;
    $("tz-none").hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    input.value = zoneLabel(state.zone);
  }

  function setActive(index, visible) {
    const input = $("tz-input");
    for (const option of picker.options) option.element.classList.remove("is-active");
    const options = visible || visibleOptions();
    picker.active = options.length ? Math.max(0, Math.min(index, options.length - 1)) : -1;
    if (picker.active < 0) {
      input.removeAttribute("aria-activedescendant");
      return;
    }
    const element = options[picker.active].element;
    element.classList.add("is-active");
    input.setAttribute("aria-activedescendant", element.id);
    element.scrollIntoView({ block: "nearest" });
  }

  function onPickerKey(event) {
    const list = $("tz-list");
    const open = !list.hidden;
    const visible = visibleOptions();
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!open) {
        openList("");
        return;
      }
      setActive(picker.active + (event.key === "ArrowDown" ? 1 : -1), visible);
    } else if ((event.key === "PageDown" || event.key === "PageUp") && open) {
      event.preventDefault();
      setActive(picker.active + (event.key === "PageDown" ? 10 : -10), visible);
    } else if (event.key === "Enter") {
      if (open && picker.active >= 0) {
        event.preventDefault();
        chooseZone(visible[picker.active].zone);
      }
    } else if (event.key === "Escape") {
      // Back to the chosen zone, whether the list is open or the search found nothing.
      if (open || $("tz-input").value !== zoneLabel(state.zone)) {
        event.preventDefault();
        closeList();
        $("tz-input").select();
      }
    }
  }

  function chooseZone(zone) {
    if (!isZone(zone)) return;
    closeList();
    if (zone === state.zone) return;
    state.zone = zone;
    try {
      window.localStorage.setItem(ZONE_KEY, state.zone);
    } catch (error) {
      /* private mode: the choice lasts for this page only */
    }
    showZone();
    if (state.slot) updateChosen();
    state.month = null;
    loadWeek();
  }

  function showZone() {
    $("tz-name").textContent = zoneLabel(state.zone);
    $("tz-name").dataset.zone = state.zone;
    if (document.activeElement !== $("tz-input")) $("tz-input").value = zoneLabel(state.zone);
  }

  // ---- the clock: 24- or 12-hour -------------------------------------------------------------

  function fillClock() {
    for (const radio of document.querySelectorAll('input[name="clock"]')) {
      radio.checked = radio.value === state.cycle;
      radio.addEventListener("change", () => {
        if (!radio.checked) return;
        state.cycle = radio.value;
        BB.rememberHourCycle(state.cycle);
        if (state.shown) renderWeek(state.shown.start, state.shown.slots);
        if (state.slot) updateChosen();
      });
    }
  }

  // ---- steps --------------------------------------------------------------------------------

  function markStep(step) {
    for (const item of $("stepper").querySelectorAll("li")) {
      if (item.dataset.step === step) item.setAttribute("aria-current", "step");
      else item.removeAttribute("aria-current");
    }
  }

  function readService(input) {
    return {
      slug: input.value,
      title: input.dataset.title,
      minutes: Number(input.dataset.minutes),
      daysAhead: Number(input.dataset.daysAhead),
      payment: input.dataset.payment === "yes",
    };
  }

  function chooseService(input) {
    state.service = readService(input);
    state.week = 0;
    state.month = null;
    state.slot = null;
    $("step-time").hidden = false;
    $("step-details").hidden = true;
    $("degraded").hidden = true;
    markStep("time");
    const url = new URL(window.location.href);
    url.searchParams.set("service", state.service.slug);
    window.history.replaceState(null, "", url);
    // Arrow keys move through radio buttons and fire "change" on each: wait for a pause.
    window.clearTimeout(state.debounce);
    state.debounce = window.setTimeout(loadWeek, 150);
  }

  // ---- the week of slots --------------------------------------------------------------------

  function weekStart() {
    return BB.addDays(BB.localDate(now, state.zone), 7 * state.week);
  }

  function lastBookableDate() {
    const horizon = new Date(now.getTime() + state.service.daysAhead * 86400000);
    return BB.localDate(horizon, state.zone);
  }

  function setNav() {
    const start = weekStart();
    const prev = $("week-prev");
    const next = $("week-next");
    const noPrev = state.week === 0;
    const noNext = BB.addDays(start, 7) > lastBookableDate();
    prev.setAttribute("aria-disabled", String(noPrev));
    next.setAttribute("aria-disabled", String(noNext));
    $("week-label").textContent = BB.format(T.week_range, {
      start: dateShort(start),
      end: dateShort(BB.addDays(start, 6)),
    });
  }

  function setLoading(loading) {
    const week = $("week");
    week.setAttribute("aria-busy", String(loading));
    week.classList.toggle("is-loading", loading);
    if (loading) $("slots-status").textContent = T.loading;
  }

  async function loadWeek() {
    if (!state.service) return;
    const seq = ++state.loadSeq;
    const start = weekStart();
    const end = BB.addDays(start, 6);
    setNav();
    syncMonth();
    setLoading(true);
    if (!$("week").children.length) {
      $("week").replaceChildren(BB.el("p", { className: "placeholder", text: T.loading }));
    }
    const query = new URLSearchParams({ service_slug: state.service.slug, from: start, to: end, tz: state.zone });
    const answer = await BB.request("GET", `/api/public/booking/slots?${query}`);
    if (seq !== state.loadSeq) return; // a newer request is on its way
    setLoading(false);
    if (answer.status === 200 && answer.data) {
      renderWeek(start, answer.data.slots);
      return;
    }
    if (answer.status === 503 && BB.errorCode(answer) === "calendar_unavailable") {
      showDegraded(answer.data);
      return;
    }
    if (answer.status === 422 && BB.errorField(answer) === "tz" && state.zone !== ownerZone) {
      $("slots-status").textContent = BB.format(T.zone_unknown, { zone: ownerZone });
      state.zone = ownerZone;
      state.month = null;
      showZone();
      loadWeek();
      return;
    }
    if (answer.status === 404) {
      showLoadError(T.service_gone, false);
      return;
    }
    showLoadError(T.error_load, true);
  }

  function showLoadError(message, retry) {
    $("slots-status").textContent = "";
    const box = BB.el("div", { className: "message message-error", role: "alert" }, [BB.el("p", { text: message })]);
    if (retry) {
      box.append(BB.el("button", { type: "button", className: "button button-quiet", text: T.try_again, onclick: loadWeek }));
    }
    $("week").replaceChildren(box);
  }

  function slotButton(slot, extraClass) {
    const start = new Date(slot.start);
    const end = new Date(slot.end);
    const chosen = state.slot && state.slot.utc === start.toISOString();
    return BB.el("button", {
      type: "button",
      className: `slot${extraClass ? " " + extraClass : ""}${chosen ? " is-selected" : ""}`,
      "aria-pressed": chosen ? "true" : "false",
      "aria-label": BB.format(T.slot_label, { day: dayLong(start), time: time(start) }),
      dataset: { start: start.toISOString(), end: end.toISOString(), apiStart: slot.start },
      text: time(start),
      onclick: () => selectSlot({ apiStart: slot.start, utc: start.toISOString(), start, end }),
    });
  }

  function renderWeek(start, slots) {
    state.shown = { start, slots };
    const byDay = new Map();
    for (const slot of slots) {
      const day = BB.localDate(new Date(slot.start), state.zone);
      if (!byDay.has(day)) byDay.set(day, []);
      byDay.get(day).push(slot);
    }
    const fragment = document.createDocumentFragment();
    for (let i = 0; i < 7; i++) {
      const day = BB.addDays(start, i);
      const daySlots = byDay.get(day) || [];
      const headingId = `day-${day}`;
      const section = BB.el("section", {
        className: `day${daySlots.length ? "" : " day-empty"}`,
        "aria-labelledby": headingId,
        dataset: { date: day },
      });
      section.append(BB.el("h4", { id: headingId, className: "day-title", text: dateHeading(day) }));
      if (daySlots.length) {
        const list = BB.el("ul", { className: "slot-list" });
        for (const slot of daySlots) list.append(BB.el("li", {}, [slotButton(slot)]));
        section.append(list);
      } else {
        section.append(BB.el("p", { className: "no-slots", text: T.no_slots_day }));
      }
      fragment.append(section);
    }
    $("week").replaceChildren(fragment);
    const range = $("week-label").textContent;
    if (!slots.length) {
      $("slots-status").textContent = T.empty_week;
      if ($("week-next").getAttribute("aria-disabled") !== "true") {
        $("week").prepend(
          BB.el("div", { className: "message message-info empty-week" }, [
            BB.el("p", { text: T.empty_week }),
            BB.el("button", {
              type: "button",
              className: "button",
              text: T.show_next,
              onclick: () => moveWeek(1),
            }),
          ])
        );
      }
    } else {
      $("slots-status").textContent = BB.format(T.loaded, { range });
    }
    noteWeekInMonth(start, byDay);
    if (state.focusDay) {
      const heading = document.getElementById(`day-${state.focusDay}`);
      state.focusDay = null;
      if (heading) BB.focus(heading);
    }
  }

  function moveWeek(delta) {
    const button = delta < 0 ? $("week-prev") : $("week-next");
    if (button.getAttribute("aria-disabled") === "true") return;
    state.week += delta;
    state.month = null; // the overview follows the week
    loadWeek();
  }

  // ---- the month overview (phones: the week there is one long list) --------------------------

  // The week grid has seven columns from 56rem on (app.css); below that it is a list.
  const narrow = window.matchMedia("(max-width: 55.99rem)");
  const dayCounts = new Map(); // "service|zone|YYYY-MM-DD" -> number of free slots
  const loadedMonths = new Set(); // "service|zone|YYYY-MM" whose whole grid has been asked for
  let monthSeq = 0;

  const monthKey = (month) => `${state.service.slug}|${state.zone}|${month}`;
  const dayKey = (day) => `${state.service.slug}|${state.zone}|${day}`;
  const daysBetween = (from, to) => Math.round((BB.dateOnly(to) - BB.dateOnly(from)) / 86400000);
  const today = () => BB.localDate(now, state.zone);

  /** The days of a month's grid: whole weeks, Monday first, with the neighbouring months' days. */
  function monthDays(month) {
    const first = `${month}-01`;
    const last = BB.addDays(`${shiftMonth(month, 1)}-01`, -1);
    const start = BB.addDays(first, -BB.weekday(first));
    const end = BB.addDays(last, 6 - BB.weekday(last));
    const days = [];
    for (let day = start; day <= end; day = BB.addDays(day, 1)) days.push(day);
    return days;
  }

  function shiftMonth(month, delta) {
    const [y, m] = month.split("-").map(Number);
    const date = new Date(Date.UTC(y, m - 1 + delta, 1, 12));
    return `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, "0")}`;
  }

  /** Show, hide and load the overview: on narrow screens, while the week is on screen. */
  async function syncMonth() {
    const box = $("month");
    const wanted = narrow.matches && state.service && !$("step-time").hidden;
    box.hidden = !wanted;
    if (!wanted) return;
    // The month holding most of the week below (a week from 30 November shows December).
    if (!state.month) state.month = BB.addDays(weekStart(), 3).slice(0, 7);
    const month = state.month;
    const days = monthDays(month);
    const first = days[0] < today() ? today() : days[0];
    const last = days[days.length - 1] > lastBookableDate() ? lastBookableDate() : days[days.length - 1];
    setMonthNav(month);
    const key = monthKey(month);
    if (first > last || loadedMonths.has(key)) {
      renderMonth(month);
      return;
    }
    renderMonth(month); // the days at once, the marks when the answer comes
    const seq = ++monthSeq;
    $("month-grid").setAttribute("aria-busy", "true");
    // At most six weeks (42 days), inside the API's 62-day range; the server caches answers.
    const query = new URLSearchParams({ service_slug: state.service.slug, from: first, to: last, tz: state.zone });
    const answer = await BB.request("GET", `/api/public/booking/slots?${query}`);
    if (seq !== monthSeq) return;
    $("month-grid").setAttribute("aria-busy", "false");
    if (answer.status === 200 && answer.data) {
      // Only the answer's own days: a zone or service changed meanwhile keys elsewhere.
      const counts = new Map();
      for (let day = first; day <= last; day = BB.addDays(day, 1)) counts.set(day, 0);
      for (const slot of answer.data.slots) {
        const day = BB.localDate(new Date(slot.start), query.get("tz"));
        counts.set(day, (counts.get(day) || 0) + 1);
      }
      const prefix = `${query.get("service_slug")}|${query.get("tz")}|`;
      for (const [day, count] of counts) dayCounts.set(prefix + day, count);
      loadedMonths.add(`${prefix}${month}`);
    }
    // A failed answer leaves the days unmarked (the week below says what went wrong).
    if (state.month === month) renderMonth(month);
  }

  function setMonthNav(month) {
    const first = `${month}-01`;
    $("month-prev").setAttribute("aria-disabled", String(first <= today()));
    $("month-next").setAttribute("aria-disabled", String(`${shiftMonth(month, 1)}-01` > lastBookableDate()));
    $("month-label").textContent = BB.capitalize(
      new Intl.DateTimeFormat(locale, { month: "long", year: "numeric", timeZone: "UTC" }).format(BB.dateOnly(first))
    );
  }

  /** A week drawn below also tells the overview about its days (the freshest answer wins). */
  function noteWeekInMonth(start, byDay) {
    for (let i = 0; i < 7; i++) {
      const day = BB.addDays(start, i);
      dayCounts.set(dayKey(day), (byDay.get(day) || []).length);
    }
    if (!$("month").hidden && state.month) renderMonth(state.month);
  }

  function renderMonth(month) {
    const grid = $("month-grid");
    const first = today();
    const last = lastBookableDate();
    const dayName = new Intl.DateTimeFormat(locale, { day: "numeric", month: "long", timeZone: "UTC" });
    const cells = [];
    for (const day of monthDays(month)) {
      const number = String(Number(day.slice(8)));
      const other = day.slice(0, 7) !== month ? " month-other" : "";
      if (day < first || day > last) {
        // Past days and days beyond the booking horizon: shown for orientation only.
        cells.push(BB.el("span", { className: `month-day month-out${other}`, "aria-hidden": "true", text: number }));
        continue;
      }
      const count = dayCounts.get(dayKey(day));
      const free = count === undefined ? null : count > 0;
      const label = dayName.format(BB.dateOnly(day));
      cells.push(
        BB.el("button", {
          type: "button",
          className: `month-day${other}${free ? " has-free" : ""}${free === false ? " no-free" : ""}`,
          tabindex: "-1",
          "aria-label": free === null ? label : BB.format(free ? T.day_free : T.day_full, { day: label }),
          "aria-disabled": free === false ? "true" : null,
          "aria-current": day === first ? "date" : null,
          dataset: { date: day },
          text: number,
        })
      );
    }
    grid.replaceChildren(...cells);
    markWeek();
  }

  /** The days of the week shown below, and the one day of the overview in the tab order. */
  function markWeek() {
    const start = weekStart();
    const end = BB.addDays(start, 6);
    const buttons = Array.from($("month-grid").querySelectorAll("button.month-day"));
    for (const button of buttons) {
      const day = button.dataset.date;
      button.classList.toggle("in-week", day >= start && day <= end);
    }
    const focused = buttons.find((button) => button === document.activeElement);
    const stop =
      focused ||
      buttons.find((b) => b.classList.contains("in-week") && b.classList.contains("has-free")) ||
      buttons.find((b) => b.classList.contains("has-free")) ||
      buttons.find((b) => b.getAttribute("aria-disabled") !== "true") ||
      buttons[0];
    for (const button of buttons) button.tabIndex = button === stop ? 0 : -1;
  }

  function moveMonth(delta) {
    const button = delta < 0 ? $("month-prev") : $("month-next");
    if (button.getAttribute("aria-disabled") === "true") return;
    state.month = shiftMonth(state.month, delta);
    syncMonth();
  }

  function jumpToDay(day) {
    const week = Math.floor(daysBetween(today(), day) / 7);
    state.focusDay = day;
    if (week !== state.week || !state.shown) {
      state.week = week;
      loadWeek();
    } else {
      renderWeek(state.shown.start, state.shown.slots);
    }
  }

  function onMonthClick(event) {
    const button = event.target.closest("button.month-day");
    if (!button || button.getAttribute("aria-disabled") === "true") return;
    jumpToDay(button.dataset.date);
  }

  // Arrow keys move between days (a grid with one tab stop); Enter or Space opens the day.
  function onMonthKey(event) {
    const button = event.target.closest("button.month-day");
    if (!button) return;
    const steps = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 };
    const buttons = Array.from($("month-grid").querySelectorAll("button.month-day"));
    let target = null;
    if (event.key in steps) {
      const wanted = BB.addDays(button.dataset.date, steps[event.key]);
      target = buttons.find((b) => b.dataset.date === wanted) || null;
    } else if (event.key === "Home") target = buttons[0];
    else if (event.key === "End") target = buttons[buttons.length - 1];
    else return;
    event.preventDefault();
    if (!target) return;
    for (const b of buttons) b.tabIndex = b === target ? 0 : -1;
    target.focus();
  }

  // ---- choosing a slot ----------------------------------------------------------------------

  function updateChosen() {
    const when = `${dayWithYear(state.slot.start)}, ${time(state.slot.start)}–${time(state.slot.end)}`;
    $("chosen-text").textContent = BB.format(T.chosen, { service: state.service.title, when });
    $("chosen-text").dataset.start = state.slot.utc;
  }

  function selectSlot(slot, options) {
    state.slot = slot;
    for (const button of document.querySelectorAll("#week button.slot")) {
      const on = button.dataset.start === slot.utc;
      button.setAttribute("aria-pressed", String(on));
      button.classList.toggle("is-selected", on);
    }
    updateChosen();
    $("conflict").hidden = true;
    $("step-details").hidden = false;
    markStep("details");
    BB.focus(options && options.fromConflict ? $("chosen-text").parentElement : $("details-title"));
    // Product analytics (tracking plan): fire and forget; a failure must not disturb the visitor.
    BB.request("POST", "/api/public/tracking", {
      event: "booking_slot_selected",
      properties: { slot_start_at: slot.apiStart, timezone: state.zone, service_slug: state.service.slug },
    });
  }

  // ---- the form -----------------------------------------------------------------------------

  const EMAIL = /^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$/;
  const PHONE = /^[0-9+()\-.\s]{5,40}$/;

  function clearErrors(form) {
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    for (const error of form.querySelectorAll(".field-error")) {
      error.hidden = true;
      error.textContent = "";
    }
    const summary = form.querySelector(".message-error");
    summary.hidden = true;
    summary.textContent = "";
  }

  function fieldError(input, message) {
    input.setAttribute("aria-invalid", "true");
    const error = document.getElementById(`${input.id}-error`);
    if (error) {
      error.textContent = message;
      error.hidden = false;
    }
  }

  function validate(fields) {
    const errors = [];
    if (!fields.name.value.trim()) errors.push([fields.name, T.need_name]);
    if (!EMAIL.test(fields.email.value.trim())) errors.push([fields.email, T.need_email]);
    const phone = fields.phone.value.trim();
    if (phone && !PHONE.test(phone)) errors.push([fields.phone, T.bad_phone]);
    // The privacy policy box, shown when the practice has a policy (PRIVACY_POLICY_URL).
    if (fields.consent && !fields.consent.checked) errors.push([fields.consent, T.need_consent]);
    return errors;
  }

  function showErrors(form, errors, summaryText) {
    for (const [input, message] of errors) fieldError(input, message);
    const summary = form.querySelector(".message-error");
    summary.textContent = summaryText || T.fix_fields;
    summary.hidden = false;
    if (errors.length) errors[0][0].focus();
    else BB.focus(summary);
  }

  const bookingFields = () => ({
    name: $("client-name"),
    email: $("client-email"),
    phone: $("client-phone"),
    comment: $("client-comment"),
    consent: $("client-consent"),
  });

  function serverFieldError(answer, fields) {
    const field = BB.errorField(answer) || "";
    const name = field.replace(/^client\./, "");
    const input = fields[name];
    if (!input) return null;
    const messages = {
      name: T.need_name,
      email: T.need_email,
      phone: T.bad_phone,
      comment: T.too_long,
      consent: T.need_consent,
    };
    return [[input, messages[name] || T.fix_fields]];
  }

  function setSending(button, sending, label) {
    state.sending = sending;
    button.setAttribute("aria-disabled", String(sending));
    button.classList.toggle("is-busy", sending);
    if (label !== undefined) button.textContent = label;
  }

  async function submitBooking(event) {
    event.preventDefault();
    if (state.sending || !state.slot) return;
    const form = $("booking-form");
    const fields = bookingFields();
    clearErrors(form);
    const errors = validate(fields);
    if (errors.length) {
      showErrors(form, errors);
      return;
    }
    const client = { name: fields.name.value.trim(), email: fields.email.value.trim() };
    if (fields.phone.value.trim()) client.phone = fields.phone.value.trim();
    // The page's language is the language of the confirmation and reminder e-mails.
    const body = { service_slug: state.service.slug, start: state.slot.apiStart, timezone: state.zone, client, language: lang };
    if (fields.comment.value.trim()) body.comment = fields.comment.value.trim();
    if (fields.consent) body.consent = fields.consent.checked;
    const fingerprint = JSON.stringify(body);
    // The same request after a lost answer reuses its key, so it cannot book twice.
    if (!state.idempotency || state.idempotency.body !== fingerprint) {
      state.idempotency = { key: BB.uuid(), body: fingerprint };
    }
    const button = $("submit-booking");
    const label = button.textContent;
    setSending(button, true, T.sending);
    $("submit-status").textContent = T.sending;
    // A booking asks the psychologist's calendar live; when that is slow (the server gives up
    // after a few seconds) say so honestly instead of a promise of "a moment".
    const slow = window.setTimeout(() => {
      $("submit-status").textContent = T.sending_slow;
    }, SLOW_AFTER_MS);
    const answer = await BB.request("POST", "/api/public/booking/appointments", body, {
      "Idempotency-Key": state.idempotency.key,
    });
    window.clearTimeout(slow);
    setSending(button, false, label);
    $("submit-status").textContent = "";
    if (answer.networkError) {
      showErrors(form, [], T.network);
      return;
    }
    state.idempotency = null;
    if (answer.status === 201 && answer.data) {
      showDone(answer.data.appointment);
    } else if (answer.status === 409 && BB.errorCode(answer) === "slot_unavailable") {
      showConflict(answer.data.alternatives || []);
      loadWeek();
    } else if (answer.status === 409 && BB.errorCode(answer) === "already_booked") {
      showAlready(answer.data);
    } else if (answer.status === 409 && BB.errorCode(answer) === "booking_limit_reached") {
      showErrors(form, [], T.limit_reached);
    } else if (answer.status === 429) {
      showErrors(form, [], T.rate_limited);
    } else if (answer.status === 503 && BB.errorCode(answer) === "calendar_unavailable") {
      showDegraded(answer.data);
    } else if (answer.status === 422) {
      const mapped = serverFieldError(answer, fields);
      if (mapped) showErrors(form, mapped);
      else showErrors(form, [], T.slot_gone);
    } else if (answer.status === 404) {
      showErrors(form, [], T.service_gone);
    } else {
      showErrors(form, [], T.server);
    }
  }

  async function submitMove(event) {
    event.preventDefault();
    if (state.sending || !state.slot) return;
    const form = $("move-form");
    clearErrors(form);
    const button = $("submit-move");
    const label = button.textContent;
    setSending(button, true, T.moving);
    $("move-status").textContent = T.moving;
    const answer = await BB.request(
      "POST",
      `/api/public/booking/appointments/${encodeURIComponent(moveId)}/reschedule`,
      { token: moveToken, start: state.slot.apiStart, timezone: state.zone }
    );
    setSending(button, false, label);
    $("move-status").textContent = "";
    if (answer.networkError) {
      showErrors(form, [], T.network);
    } else if (answer.status === 200) {
      const query = new URLSearchParams({ token: moveToken, moved: "1" });
      window.location.assign(`/booking/manage/${encodeURIComponent(moveId)}?${query}`);
    } else if (answer.status === 409 && BB.errorCode(answer) === "slot_unavailable") {
      showConflict(answer.data.alternatives || []);
      loadWeek();
    } else if (answer.status === 409 && BB.errorCode(answer) === "change_window_closed") {
      showErrors(form, [], T.move_closed);
    } else if (answer.status === 429) {
      showErrors(form, [], T.rate_limited);
    } else if (answer.status === 503 && BB.errorCode(answer) === "calendar_unavailable") {
      showDegraded(answer.data);
    } else if (answer.status === 404 || answer.status === 409) {
      showErrors(form, [], T.move_gone);
    } else {
      showErrors(form, [], T.server);
    }
  }

  function showConflict(alternatives) {
    const list = $("alternatives");
    list.replaceChildren();
    for (const slot of alternatives) {
      const start = new Date(slot.start);
      const end = new Date(slot.end);
      list.append(
        BB.el("li", {}, [
          BB.el("button", {
            type: "button",
            className: "slot slot-wide",
            dataset: { start: start.toISOString(), apiStart: slot.start },
            text: `${dayLong(start)}, ${time(start)}`,
            onclick: () => selectSlot({ apiStart: slot.start, utc: start.toISOString(), start, end }, { fromConflict: true }),
          }),
        ])
      );
    }
    $("no-alternatives").hidden = alternatives.length > 0;
    $("conflict").hidden = false;
    BB.focus($("conflict-title"));
  }

  // ---- already booked: the visitor holds this very time (a retry, or the page was closed) ------

  function showAlready(data) {
    for (const id of ["step-service", "step-time", "step-details", "stepper", "degraded"]) $(id).hidden = true;
    const { start, end } = state.slot;
    $("already-when").textContent = `${state.service.title}: ${dayWithYear(start)}, ${time(start)}–${time(end)}`;
    $("already-when").dataset.start = state.slot.utc;
    // The e-mail with the manage link went out again, unless the practice sends no e-mail.
    const sent = !(data && data.email_resent === false);
    $("already-sent").hidden = !sent;
    $("already-no-mail").hidden = sent;
    $("step-already").hidden = false;
    BB.focus($("already-title"));
  }

  function chooseAnother() {
    $("step-already").hidden = true;
    for (const id of ["stepper", "step-service", "step-time"]) $(id).hidden = false;
    state.slot = null;
    markStep("time");
    BB.focus($("time-title"));
    loadWeek();
  }

  // ---- confirmation -------------------------------------------------------------------------

  function showDone(appointment) {
    const zone = appointment.timezone;
    const start = new Date(appointment.start);
    const end = new Date(appointment.end);
    const pending = appointment.status === "pending_payment";
    const token = encodeURIComponent(appointment.manage_token);
    const manage = `/booking/manage/${appointment.id}?token=${token}`;
    for (const id of ["step-service", "step-time", "step-details", "stepper", "degraded"]) $(id).hidden = true;
    $("done-title").textContent = pending ? T.done_pending : T.done_confirmed;
    $("done-when").textContent = `${state.service.title}: ${dayWithYear(start, zone)}, ${time(start, zone)}–${time(end, zone)}`;
    $("done-when").dataset.start = start.toISOString();
    $("done-zone").textContent = BB.format(T.time_zone, { zone: zoneLabel(zone, start) });
    // The service's price, format, place and "what happens next", rendered by the server.
    const about = document.getElementById(`service-done-${state.service.slug}`);
    $("done-service").replaceChildren(about ? about.content.cloneNode(true) : "");
    const pendingBox = $("done-pending");
    pendingBox.hidden = !pending;
    if (pending && appointment.hold_expires_at) {
      pendingBox.textContent = BB.format(T.pending_hint, { time: time(new Date(appointment.hold_expires_at), zone) });
    }
    $("ics-link").href = `/booking/manage/${appointment.id}/calendar.ics?token=${token}`;
    $("manage-link").href = manage;
    $("manage-url").value = new URL(manage, window.location.origin).href;
    $("step-done").hidden = false;
    BB.focus($("done-title"));
  }

  async function copyLink() {
    const input = $("manage-url");
    let copied = false;
    try {
      await navigator.clipboard.writeText(input.value);
      copied = true;
    } catch (error) {
      input.select();
      copied = false;
    }
    $("copy-status").textContent = copied ? T.copied : T.copy_failed;
  }

  // ---- degraded: calendar unavailable -> check later + waiting list ---------------------------

  function showDegraded(data) {
    $("step-time").hidden = true;
    $("step-details").hidden = true;
    const minutes = data && data.retry_after_seconds ? Math.max(1, Math.ceil(data.retry_after_seconds / 60)) : null;
    $("retry-hint").hidden = !minutes;
    if (minutes) $("retry-hint").textContent = BB.format(T.retry_in, { minutes });
    // Whatever the visitor typed already moves over to the waiting-list form.
    const copy = [
      ["client-name", "wl-name"],
      ["client-email", "wl-email"],
      ["client-phone", "wl-phone"],
    ];
    for (const [from, to] of copy) if (!$(to).value) $(to).value = $(from).value;
    $("degraded").hidden = false;
    BB.focus($("degraded-title"));
  }

  function retry() {
    $("degraded").hidden = true;
    state.slot = null;
    $("step-time").hidden = false;
    markStep("time");
    BB.focus($("time-title"));
    loadWeek();
  }

  async function submitWaitlist(event) {
    event.preventDefault();
    if (state.sending) return;
    const form = $("waitlist-form");
    const fields = {
      name: $("wl-name"),
      email: $("wl-email"),
      phone: $("wl-phone"),
      comment: $("wl-comment"),
      consent: $("wl-consent"),
    };
    clearErrors(form);
    const errors = validate(fields);
    if (errors.length) {
      showErrors(form, errors);
      return;
    }
    const body = {
      service_slug: state.service.slug,
      name: fields.name.value.trim(),
      email: fields.email.value.trim(),
      timezone: state.zone,
      language: lang, // the offers and notices it may get are in the page's language
    };
    if (fields.phone.value.trim()) body.phone = fields.phone.value.trim();
    if (fields.comment.value.trim()) body.comment = fields.comment.value.trim();
    if (fields.consent) body.consent = fields.consent.checked;
    const button = $("submit-waitlist");
    const label = button.textContent;
    setSending(button, true, T.waitlist_sending);
    const answer = await BB.request("POST", "/api/public/booking/waitlist", body);
    setSending(button, false, label);
    if (answer.status === 201 || (answer.status === 200 && answer.data && answer.data.already_waiting)) {
      // 200 `already_waiting`: this person waits for this meeting already; nothing new stored.
      const done = answer.status === 201 ? $("waitlist-done") : $("waitlist-already");
      form.hidden = true;
      done.hidden = false;
      BB.focus(done);
    } else if (answer.networkError) {
      showErrors(form, [], T.network);
    } else if (answer.status === 422) {
      showErrors(form, serverFieldError(answer, fields) || [], T.fix_fields);
    } else {
      showErrors(form, [], T.server);
    }
  }

  // ---- start --------------------------------------------------------------------------------

  // Inside the change cut-off the move page only says whom to contact.
  if (moveId && $("change-closed")) {
    for (const id of ["stepper", "step-time", "step-details"]) $(id).hidden = true;
    return;
  }
  fillZones();
  fillClock();
  $("month-prev").addEventListener("click", () => moveMonth(-1));
  $("month-next").addEventListener("click", () => moveMonth(1));
  $("month-grid").addEventListener("click", onMonthClick);
  $("month-grid").addEventListener("keydown", onMonthKey);
  narrow.addEventListener("change", () => {
    if (state.service) syncMonth();
  });
  const radios = Array.from(document.querySelectorAll('input[name="service"]'));
  for (const radio of radios) radio.addEventListener("change", () => chooseService(radio));
  $("week-prev").addEventListener("click", () => moveWeek(-1));
  $("week-next").addEventListener("click", () => moveWeek(1));
  $("change-time").addEventListener("click", () => {
    const pressed = document.querySelector('#week button.slot[aria-pressed="true"]');
    BB.focus(pressed || $("time-title"));
  });
  $("booking-form").addEventListener("submit", submitBooking);
  if (moveId) $("move-form").addEventListener("submit", submitMove);
  $("waitlist-form").addEventListener("submit", submitWaitlist);
  $("copy-link").addEventListener("click", copyLink);
  $("retry").addEventListener("click", retry);
  $("already-another").addEventListener("click", chooseAnother);
  const preset = radios.find((radio) => radio.checked) || (radios.length === 1 ? radios[0] : null);
  if (preset) {
    preset.checked = true;
    chooseService(preset);
  }
})();
