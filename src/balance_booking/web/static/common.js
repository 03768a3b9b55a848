/* Small helpers shared by the pages' scripts: JSON requests, texts, time zones. No build step. */
(function () {
  "use strict";
  const BB = (window.BB = window.BB || {});

  /** The translated texts a page put into <script type="application/json" id="...">. */
  BB.texts = function (id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : {};
  };

  /** "Hello {name}" + {name: "Anna"} -> "Hello Anna". */
  BB.format = function (template, values) {
    return String(template).replace(/\{(\w+)\}/g, (match, key) =>
      Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : match
    );
  };

  BB.csrfToken = function () {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : null;
  };

  /**
   * fetch() with JSON in and out. Never throws: the answer is
   * {ok, status, data, networkError}. Unsafe methods carry the admin CSRF token when the page
   * has one (cookie sessions need it; public endpoints ignore it).
   */
  BB.request = async function (method, url, body, headers) {
    const init = { method, headers: Object.assign({ Accept: "application/json" }, headers || {}) };
    init.credentials = "same-origin";
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (method !== "GET" && method !== "HEAD") {
      const token = BB.csrfToken();
      if (token) init.headers["X-CSRF-Token"] = token;
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (error) {
      return { ok: false, status: 0, data: null, networkError: true };
    }
    let data = null;
    const type = response.headers.get("Content-Type") || "";
    if (type.includes("application/json")) {
      try {
        data = await response.json();
      } catch (error) {
        data = null;
      }
    }
    return { ok: response.ok, status: response.status, data, networkError: false };
  };

  BB.errorCode = (answer) => (answer.data && answer.data.error ? answer.data.error.code : null);
  BB.errorField = (answer) => (answer.data && answer.data.error ? answer.data.error.field : null);

  BB.uuid = function () {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  };

  const partsCache = new Map();
  function partsFormatter(zone) {
    let formatter = partsCache.get(zone);
    if (!formatter) {
      formatter = new Intl.DateTimeFormat("en-US", {
        timeZone: zone,
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
      });
      partsCache.set(zone, formatter);
    }
    return formatter;
  }

  /** Wall-clock parts of an instant in an IANA zone: {year, month, day, hour, minute}. */
  BB.zoneParts = function (date, zone) {
    const parts = {};
    for (const part of partsFormatter(zone).formatToParts(date)) {
      if (part.type !== "literal") parts[part.type] = parseInt(part.value, 10);
    }
    if (parts.hour === 24) parts.hour = 0;
    return parts;
  };

  const pad = (n) => String(n).padStart(2, "0");

  /** The local date ("YYYY-MM-DD") of an instant in a zone. */
  BB.localDate = function (date, zone) {
    const p = BB.zoneParts(date, zone);
    return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
  };

  /** Minutes since local midnight of an instant in a zone. */
  BB.localMinutes = function (date, zone) {
    const p = BB.zoneParts(date, zone);
    return p.hour * 60 + p.minute;
  };

  /** Calendar arithmetic on "YYYY-MM-DD" strings (no time zone involved). */
  BB.addDays = function (isoDate, days) {
    const [y, m, d] = isoDate.split("-").map(Number);
    const date = new Date(Date.UTC(y, m - 1, d + days, 12));
    return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
  };

  /** A "YYYY-MM-DD" date as a Date at noon UTC, for formatting the date alone. */
  BB.dateOnly = function (isoDate) {
    const [y, m, d] = isoDate.split("-").map(Number);
    return new Date(Date.UTC(y, m - 1, d, 12));
  };

  /** Weekday of a "YYYY-MM-DD" date: 0 = Monday ... 6 = Sunday. */
  BB.weekday = function (isoDate) {
    return (BB.dateOnly(isoDate).getUTCDay() + 6) % 7;
  };

  BB.locale = (lang) => (lang === "en" ? "en-GB" : "ru-RU");

  /** "UTC+03:00" for a zone at an instant. */
  BB.offsetLabel = function (zone, date) {
    try {
      const parts = new Intl.DateTimeFormat("en-US", {
        timeZone: zone,
        timeZoneName: "longOffset",
      }).formatToParts(date || new Date());
      const name = parts.find((p) => p.type === "timeZoneName");
      const value = name ? name.value.replace("GMT", "UTC") : "UTC";
      return value === "UTC" ? "UTC+00:00" : value;
    } catch (error) {
      return "";
    }
  };

  BB.zoneLabel = (zone) => zone.replace(/_/g, " ");

  const CLOCK_KEY = "bb_clock";

  /** The visitor's 12/24-hour choice (remembered in localStorage), else `fallback`: the page
   *  language's convention from CLDR ("h12" for English, "h23" for Russian). */
  BB.hourCycle = function (fallback) {
    try {
      const stored = window.localStorage.getItem(CLOCK_KEY);
      if (stored === "h12" || stored === "h23") return stored;
    } catch (error) {
      /* private mode: the language's convention */
    }
    return fallback === "h12" ? "h12" : "h23";
  };

  BB.rememberHourCycle = function (cycle) {
    try {
      window.localStorage.setItem(CLOCK_KEY, cycle);
    } catch (error) {
      /* private mode: the choice lasts for this page only */
    }
  };

  /** "14:30" or "2:30 PM": an instant's wall time in `zone` on a 24- or 12-hour clock. */
  BB.formatTime = function (date, zone, lang, cycle) {
    const h12 = cycle === "h12";
    // en-GB writes "2:30 pm"; the 12-hour English clock reads "2:30 PM" (CLDR en).
    const locale = h12 && lang === "en" ? "en-US" : BB.locale(lang);
    const options = { timeZone: zone, hour: h12 ? "numeric" : "2-digit", minute: "2-digit", hourCycle: h12 ? "h12" : "h23" };
    return new Intl.DateTimeFormat(locale, options).format(date);
  };

  /** The wall time `isoDate` + "HH:MM" in `zone` as an RFC 3339 instant with that zone's offset
   *  (a time the clocks skip in spring comes out as the first one after the gap). */
  BB.zonedInstant = function (isoDate, hhmm, zone) {
    const [y, m, d] = isoDate.split("-").map(Number);
    const [hh, mm] = hhmm.split(":").map(Number);
    const wanted = Date.UTC(y, m - 1, d, hh, mm);
    let instant = wanted;
    for (let i = 0; i < 3; i += 1) {
      const p = BB.zoneParts(new Date(instant), zone);
      const shown = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute);
      if (shown === wanted) break;
      instant += wanted - shown;
    }
    const at = new Date(instant);
    const p = BB.zoneParts(at, zone);
    const offset = BB.offsetLabel(zone, at).replace("UTC", "") || "+00:00";
    return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:00${offset}`;
  };

  /** "вт, 1 декабря" -> "Вт, 1 декабря" (Intl writes Russian weekdays in lower case). */
  BB.capitalize = (text) => (text ? text.charAt(0).toUpperCase() + text.slice(1) : text);

  /** Move keyboard and screen-reader focus to an element (made focusable if needed). */
  BB.focus = function (element) {
    if (!element) return;
    if (!element.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(element.tagName)) {
      element.setAttribute("tabindex", "-1");
    }
    element.focus({ preventScroll: true });
    const reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    element.scrollIntoView({ block: "start", behavior: reduce ? "auto" : "smooth" });
  };

  BB.el = function (tag, attributes, children) {
    const element = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") element.textContent = value;
      else if (key === "className") element.className = value;
      else if (key.startsWith("on") && typeof value === "function") {
        element.addEventListener(key.slice(2), value);
      } else if (key === "dataset") Object.assign(element.dataset, value);
      else element.setAttribute(key, value === true ? "" : value);
    }
    for (const child of [].concat(children || [])) {
      if (child === null || child === undefined) continue;
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return element;
  };
})();
