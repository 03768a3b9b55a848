/* /admin/settings/integrations: the banner for bookings whose Google Calendar write is parked. */
(function () {
  "use strict";
  const banner = document.getElementById("parked");
  if (!banner || !window.BB) return;
  const BB = window.BB;
  const zone = banner.dataset.timezone;
  const locale = BB.locale(banner.dataset.lang);

  async function check() {
    // Recent and upcoming bookings (the API allows 62 days per query).
    const today = BB.localDate(new Date(), zone);
    const query = new URLSearchParams({ from: BB.addDays(today, -7), to: BB.addDays(today, 54) });
    const answer = await BB.request("GET", `/api/admin/appointments?${query}`);
    if (!answer.ok || !answer.data) return;
    const parked = answer.data.appointments.filter(
      (a) => a.calendar_event && a.calendar_event.state === "failed" && a.status !== "cancelled"
    );
    if (!parked.length) return;
    const format = new Intl.DateTimeFormat(locale, {
      timeZone: zone,
      weekday: "short",
      day: "numeric",
      month: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    const list = BB.el(
      "ul",
      {},
      parked.map((a) => BB.el("li", { text: `${BB.capitalize(format.format(new Date(a.start)))} · ${a.client_name}` }))
    );
    banner.replaceChildren(
      BB.el("p", {}, [BB.el("strong", { text: banner.dataset.title }), " ", banner.dataset.hint]),
      list,
      BB.el("p", {}, [BB.el("a", { href: "/admin/schedule/#appointments-section", text: banner.dataset.link })])
    );
    banner.dataset.count = String(parked.length);
    banner.hidden = false;
  }

  check();
})();
