"""Scope strings, what each Calendar method accepts, and how the consent screen words them."""

from __future__ import annotations

_CAL = "https://www.googleapis.com/auth/calendar"
CALENDAR = _CAL
CALENDAR_READONLY = f"{_CAL}.readonly"
EVENTS = f"{_CAL}.events"
EVENTS_READONLY = f"{_CAL}.events.readonly"
EVENTS_OWNED = f"{_CAL}.events.owned"
EVENTS_OWNED_READONLY = f"{_CAL}.events.owned.readonly"
EVENTS_FREEBUSY = f"{_CAL}.events.freebusy"
EVENTS_PUBLIC_READONLY = f"{_CAL}.events.public.readonly"
FREEBUSY = f"{_CAL}.freebusy"
APP_CREATED = f"{_CAL}.app.created"
CALENDARLIST = f"{_CAL}.calendarlist"
CALENDARLIST_READONLY = f"{_CAL}.calendarlist.readonly"
CALENDARS = f"{_CAL}.calendars"
CALENDARS_READONLY = f"{_CAL}.calendars.readonly"
ACLS = f"{_CAL}.acls"
ACLS_READONLY = f"{_CAL}.acls.readonly"
SETTINGS = f"{_CAL}.settings"
SETTINGS_READONLY = f"{_CAL}.settings.readonly"

OPENID = "openid"
USERINFO_EMAIL = "https://www.googleapis.com/auth/userinfo.email"
USERINFO_PROFILE = "https://www.googleapis.com/auth/userinfo.profile"

# Google answers the short OIDC names with the long URLs in the token response `scope`
# (the origin of oauthlib's well-known "Scope has changed" warning).
SCOPE_ALIASES = {"email": USERINFO_EMAIL, "profile": USERINFO_PROFILE}

# Shown on the consent screen; wording close to Google's consent screen.
SCOPE_LABELS: dict[str, str] = {
    CALENDAR: "See, edit, share, and permanently delete all the calendars you can access using Google Calendar",
    CALENDAR_READONLY: "See and download any calendar you can access using your Google Calendar",
    EVENTS: "View and edit events on all your calendars",
    EVENTS_READONLY: "View events on all your calendars",
    EVENTS_OWNED: "See, create, change, and delete events on Google calendars you own",
    EVENTS_OWNED_READONLY: "See the events on Google calendars you own",
    EVENTS_FREEBUSY: "See the availability on Google Calendars you have access to",
    EVENTS_PUBLIC_READONLY: "See the events on public calendars",
    FREEBUSY: "View your availability in your calendars",
    APP_CREATED: "Make secondary Google calendars, and see, create, change, and delete events on them",
    CALENDARLIST: "See, add, and remove Google calendars you're subscribed to",
    CALENDARLIST_READONLY: "See the list of Google calendars you're subscribed to",
    CALENDARS: "See and change the properties of Google calendars you have access to, and create secondary calendars",
    CALENDARS_READONLY: "See the title, description, default time zone, and other properties of Google calendars you have access to",
    ACLS: "See and change the sharing permissions of Google calendars you own",
    ACLS_READONLY: "See the sharing permissions of Google calendars you own",
    SETTINGS: "See and change your Google Calendar settings",
    SETTINGS_READONLY: "View your Calendar settings",
    OPENID: "Associate you with your personal info on Google",
    USERINFO_EMAIL: "See your primary Google Account email address",
    USERINFO_PROFILE: "See your personal info, including any personal info you've made publicly available",
}

KNOWN_SCOPES = frozenset(SCOPE_LABELS)
# Sign-in scopes are granted with the account choice; granular consent only offers the rest.
BASIC_SCOPES = frozenset({OPENID, USERINFO_EMAIL, USERINFO_PROFILE})

_EVENTS_READ = frozenset(
    {
        CALENDAR,
        CALENDAR_READONLY,
        EVENTS,
        EVENTS_READONLY,
        APP_CREATED,
        EVENTS_FREEBUSY,
        EVENTS_OWNED,
        EVENTS_OWNED_READONLY,
        EVENTS_PUBLIC_READONLY,
    }
)
_EVENTS_WRITE = frozenset({CALENDAR, EVENTS, APP_CREATED, EVENTS_OWNED})

# Accepted scopes per method, from the Calendar reference pages and discovery document.
METHOD_SCOPES: dict[str, frozenset[str]] = {
    "events.list": _EVENTS_READ,
    "events.get": _EVENTS_READ,
    "events.instances": _EVENTS_READ,
    "events.watch": _EVENTS_READ,
    "events.insert": _EVENTS_WRITE,
    "events.patch": _EVENTS_WRITE,
    "events.update": _EVENTS_WRITE,
    "events.delete": _EVENTS_WRITE,
    "freebusy.query": frozenset({CALENDAR, CALENDAR_READONLY, EVENTS_FREEBUSY, FREEBUSY}),
    "calendarList.list": frozenset(
        {CALENDAR, CALENDAR_READONLY, CALENDARLIST, CALENDARLIST_READONLY}
    ),
    "calendarList.get": frozenset(
        {CALENDAR, CALENDAR_READONLY, APP_CREATED, CALENDARLIST, CALENDARLIST_READONLY}
    ),
    "calendars.get": frozenset(
        {CALENDAR, CALENDAR_READONLY, APP_CREATED, CALENDARS, CALENDARS_READONLY}
    ),
    "settings.get": frozenset({CALENDAR, CALENDAR_READONLY, SETTINGS, SETTINGS_READONLY}),
    "settings.list": frozenset({CALENDAR, CALENDAR_READONLY, SETTINGS, SETTINGS_READONLY}),
    "channels.stop": frozenset(
        {
            CALENDAR,
            CALENDAR_READONLY,
            ACLS,
            ACLS_READONLY,
            APP_CREATED,
            CALENDARLIST,
            CALENDARLIST_READONLY,
            EVENTS,
            EVENTS_FREEBUSY,
            EVENTS_OWNED,
            EVENTS_OWNED_READONLY,
            EVENTS_PUBLIC_READONLY,
            EVENTS_READONLY,
            SETTINGS,
            SETTINGS_READONLY,
        }
    ),
}

# Google's per-method names for the ErrorInfo detail of 403 insufficientPermissions.
RPC_METHOD_NAMES: dict[str, str] = {
    "events.list": "calendar.v3.Events.List",
    "events.get": "calendar.v3.Events.Get",
    "events.instances": "calendar.v3.Events.Instances",
    "events.watch": "calendar.v3.Events.Watch",
    "events.insert": "calendar.v3.Events.Insert",
    "events.patch": "calendar.v3.Events.Patch",
    "events.update": "calendar.v3.Events.Update",
    "events.delete": "calendar.v3.Events.Delete",
    "freebusy.query": "calendar.v3.Freebusy.Query",
    "calendarList.list": "calendar.v3.CalendarList.List",
    "calendarList.get": "calendar.v3.CalendarList.Get",
    "calendars.get": "calendar.v3.Calendars.Get",
    "settings.get": "calendar.v3.Settings.Get",
    "settings.list": "calendar.v3.Settings.List",
    "channels.stop": "calendar.v3.Channels.Stop",
}


def normalize_scopes(raw: str) -> list[str]:
    """Split a space-delimited scope string, map short OIDC names, keep order, drop repeats."""
    seen: list[str] = []
    for part in raw.split():
        scope = SCOPE_ALIASES.get(part, part)
        if scope not in seen:
            seen.append(scope)
    return seen
