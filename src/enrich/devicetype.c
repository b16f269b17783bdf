/*
 * devicetype.c: classes a device as desktop, mobile, tablet, bot or other.
 *
 * In order:
 *   1. ua-parser's device family "Spider" is a bot.
 *   2. Televisions, set-top boxes, game consoles and watches are "other".
 *   3. Tablets: iPad, Kindle, names with "Tablet"/"Pad"/"Tab", and Android
 *      user agents without the "Mobile" token (the convention Android
 *      browsers follow to tell a tablet from a phone).
 *   4. A device ua-parser recognised (any family but "Other") is mobile,
 *      except Apple's "Mac" which is a desktop.
 *   5. An unrecognised device is classed by its OS: desktop systems are
 *      desktop, phone systems mobile, anything else "other".
 * The caller turns every detected bot into "bot" before asking.
 */
#include "postgres.h"

#include "devicetype.h"

static bool
has(const char *s, const char *token)
{
	return s != NULL && strstr(s, token) != NULL;
}

/* Does s (NULL allowed) contain token, ignoring ASCII case? */
static bool
has_ci(const char *s, const char *token)
{
	size_t		tlen = strlen(token);

	if (s == NULL)
		return false;
	for (; *s; s++)
		if (pg_strncasecmp(s, token, tlen) == 0)
			return true;
	return false;
}

static bool
equals(const char *s, const char *value)
{
	return s != NULL && strcmp(s, value) == 0;
}

/* A television, games console or watch: "other", not desktop or mobile. */
static bool
is_tv_console_or_watch(const char *ua, const char *family, const char *brand)
{
	static const char *const tokens[] = {
		"HbbTV", "NetCast", "Inettv", "SmartTV", "Smart TV", "AppleTV", "Apple TV",
		"GoogleTV", "Google TV", "BRAVIA", "Roku", "Chromecast", "CrKey",
		"PlayStation", "Xbox", "Nintendo", "Wii", "Watch"
	};
	int			i;

	for (i = 0; i < lengthof(tokens); i++)
		if (has(family, tokens[i]))
			return true;
	if (equals(brand, "Generic_Inettv") || has(ua, "SMART-TV") || has(ua, "SmartTV") ||
		has(ua, "HbbTV"))
		return true;
	return false;
}

static bool
is_tablet(const char *ua, const char *family, const char *model, const char *os)
{
	if (has(family, "iPad") || has(model, "iPad") || has(ua, "iPad"))
		return true;
	if (has(family, "Kindle") || has(ua, "Kindle") || has(ua, "Silk/"))
		return true;
	if (has_ci(family, "Tablet") || has_ci(ua, "Tablet") || has(family, " Tab") ||
		has(family, "PAD") || has(family, "Pad") || has(ua, "PlayBook"))
		return true;
	/* Android tablets leave out "Mobile"; phones send it */
	if ((equals(os, "Android") || has(ua, "Android")) && !has(ua, "Mobile") &&
		!has(ua, "Opera Mini") && !has(ua, "Phone"))
		return true;
	return false;
}

static bool
is_desktop_os(const char *os)
{
	static const char *const desktop[] = {
		"Mac OS X", "Mac OS", "Linux", "Ubuntu", "Kubuntu", "Xubuntu", "Debian",
		"Fedora", "Red Hat", "CentOS", "SUSE", "openSUSE", "Gentoo", "Slackware",
		"Mandriva", "Mageia", "Mint", "Arch Linux", "Chrome OS", "Chromecast OS",
		"FreeBSD", "OpenBSD", "NetBSD", "DragonFly BSD", "Solaris", "SunOS", "BeOS",
		"Haiku", "OS/2", "AIX", "HP-UX", "IRIX", "Linux Mint", "elementary OS", "Fuchsia"
	};
	int			i;

	if (os == NULL)
		return false;
	if (strncmp(os, "Windows", 7) == 0)
		return !(has(os, "Phone") || has(os, "Mobile") || has(os, "CE") || has(os, "RT"));
	for (i = 0; i < lengthof(desktop); i++)
		if (strcmp(os, desktop[i]) == 0)
			return true;
	return false;
}

static bool
is_phone_os(const char *os)
{
	static const char *const phone[] = {
		"iOS", "Android", "Windows Phone", "Windows Mobile", "Windows CE", "BlackBerry OS",
		"BlackBerry Tablet OS", "Symbian OS", "Symbian^3", "Symbian^3 Anna", "Symbian^3 Belle",
		"Bada", "Firefox OS", "KaiOS", "Tizen", "webOS", "MeeGo", "Maemo", "Sailfish",
		"Ubuntu Touch", "Windows RT"
	};
	int			i;

	if (os == NULL)
		return false;
	for (i = 0; i < lengthof(phone); i++)
		if (strcmp(os, phone[i]) == 0)
			return true;
	return false;
}

const char *
vt_device_type(const char *user_agent, const char *device_family,
			   const char *device_brand, const char *device_model, const char *os_family)
{
	const char *family = device_family ? device_family : "Other";

	if (strcmp(family, "Spider") == 0)
		return "bot";
	if (is_tv_console_or_watch(user_agent, family, device_brand))
		return "other";
	if (strcmp(family, "Mac") == 0)
		return "desktop";
	if (strcmp(family, "Other") != 0)
		return is_tablet(user_agent, family, device_model, os_family) ? "tablet" : "mobile";
	if (is_desktop_os(os_family))
		return "desktop";
	if (is_phone_os(os_family))
		return is_tablet(user_agent, family, device_model, os_family) ? "tablet" : "mobile";
	return "other";
}
