/* /admin/schedule/, "A client's data": download what is stored about one e-mail address, or
 * erase it (API.md "Privacy and data rights"). The address goes in a request, never in the page's
 * URL, so it stays out of the browser history. */
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const form = $("client-data-form");
  if (!form) return;
  const T = BB.texts("privacy-text");
  const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
  const input = $("client-data-email");
  let busy = false;

  function say(text) {
    $("client-data-status").textContent = text;
  }

  function address() {
    const value = input.value.trim();
    const error = $("client-data-email-error");
    if (EMAIL.test(value)) {
      input.removeAttribute("aria-invalid");
      error.hidden = true;
      return value;
    }
    input.setAttribute("aria-invalid", "true");
    error.textContent = T.need_email;
    error.hidden = false;
    input.focus();
    return null;
  }

  function hideQuestion() {
    $("client-data-confirm").hidden = true;
    $("client-data-erase").setAttribute("aria-expanded", "false");
  }

  async function download(event) {
    event.preventDefault();
    hideQuestion();
    const email = address();
    if (!email || busy) return;
    busy = true;
    say(T.working);
    const answer = await BB.request("GET", `/api/admin/clients?email=${encodeURIComponent(email)}`);
    busy = false;
    if (!answer.ok || !answer.data) {
      say(T.failed);
      return;
    }
    const data = answer.data;
    if (!data.appointments.length && !data.waitlist.length && !data.consents.length) {
      say(T.nothing);
      return;
    }
    const file = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
    const link = BB.el("a", { href: URL.createObjectURL(file), download: "client-data.json" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    say(
      BB.format(T.downloaded, {
        appointments: data.appointments.length,
        waitlist: data.waitlist.length,
        consents: data.consents.length,
      })
    );
  }

  function ask() {
    const email = address();
    if (!email) return;
    $("client-data-question").textContent = BB.format(T.question, { email });
    $("client-data-confirm").hidden = false;
    $("client-data-erase").setAttribute("aria-expanded", "true");
    $("client-data-erase-no").focus();
  }

  async function erase() {
    const email = address();
    if (!email || busy) return;
    busy = true;
    say(T.working);
    const answer = await BB.request("POST", "/api/admin/clients/erase", { email });
    busy = false;
    hideQuestion();
    if (!answer.ok || !answer.data) {
      say(T.failed);
      return;
    }
    const counts = answer.data.erased;
    say(
      BB.format(T.erased, {
        appointments: counts.appointments,
        cancelled: counts.cancelled,
        waitlist: counts.waitlist_entries,
      })
    );
    input.value = "";
    $("client-data-erase").focus();
  }

  form.addEventListener("submit", download);
  $("client-data-erase").addEventListener("click", ask);
  $("client-data-erase-yes").addEventListener("click", erase);
  $("client-data-erase-no").addEventListener("click", () => {
    hideQuestion();
    $("client-data-erase").focus();
  });
})();
