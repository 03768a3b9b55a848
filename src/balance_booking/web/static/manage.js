/* /booking/manage/{id}: the visitor's clock; cancel through the JSON API after an inline
   "are you sure?". */
(function () {
  "use strict";
  // The page is written on the language's clock; a visitor who chose the other one on the
  // booking page (localStorage) sees the time on theirs.
  const when = document.getElementById("manage-when");
  if (when && window.BB) {
    const data = when.dataset;
    const cycle = window.BB.hourCycle(data.hourCycle);
    if (cycle !== data.hourCycle) {
      const start = new Date(data.start);
      const day = new Intl.DateTimeFormat(window.BB.locale(data.lang), {
        timeZone: data.zone,
        weekday: "long",
        day: "numeric",
        month: "long",
        year: "numeric",
      }).format(start);
      const time = (date) => window.BB.formatTime(date, data.zone, data.lang, cycle);
      when.textContent = `${day}, ${time(start)}–${time(new Date(data.end))}`;
    }
  }
})();

(function () {
  "use strict";
  const form = document.getElementById("cancel-form");
  const root = document.getElementById("manage");
  if (!form || !root || !window.BB) return;
  const BB = window.BB;
  const T = BB.texts("manage-text");
  const $ = (id) => document.getElementById(id);
  let busy = false;

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    $("cancel-confirm").hidden = false;
    BB.focus($("cancel-question"));
  });

  $("cancel-no").addEventListener("click", () => {
    $("cancel-confirm").hidden = true;
    $("cancel-start").focus();
  });

  $("cancel-yes").addEventListener("click", async () => {
    if (busy) return;
    busy = true;
    const button = $("cancel-yes");
    button.setAttribute("aria-disabled", "true");
    button.classList.add("is-busy");
    $("manage-message").textContent = T.cancelling;
    const token = form.querySelector('input[name="token"]').value;
    const answer = await BB.request("POST", `/api/public/booking/appointments/${root.dataset.id}/cancel`, { token });
    busy = false;
    button.removeAttribute("aria-disabled");
    button.classList.remove("is-busy");
    if (answer.ok && answer.data && answer.data.appointment.status === "cancelled") {
      const status = $("manage-status");
      status.textContent = T.cancelled_status;
      status.dataset.status = "cancelled";
      status.className = "badge badge-cancelled";
      root.dataset.status = "cancelled";
      form.remove();
      const actions = $("manage-actions");
      if (actions) actions.remove();
      $("book-again").hidden = false;
      const message = $("manage-message");
      message.textContent = T.cancelled;
      message.className = "message message-ok";
      BB.focus($("manage-title"));
      return;
    }
    let text = T.failed;
    if (answer.networkError) text = T.network;
    else if (BB.errorCode(answer) === "change_window_closed") text = T.closed;
    else if (answer.status === 404 || answer.status === 409 || answer.status === 422) text = T.gone;
    $("manage-message").textContent = text;
  });
})();
