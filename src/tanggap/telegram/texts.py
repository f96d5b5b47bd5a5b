"""What the flaggers' bot says, in English and Bahasa Indonesia (the organisation's language)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "stranger": {
        "en": (
            "This bot is the direct channel of trusted flagger organisations with Tanggap.\n"
            "To use it, link your account: sign in to the flagger portal, open “Telegram”, and "
            "send the bot the line shown there: /start CODE"
        ),
        "id": (
            "Bot ini adalah saluran langsung organisasi pelapor tepercaya dengan Tanggap.\n"
            "Untuk memakainya, tautkan akun Anda: masuk ke portal pelapor, buka “Telegram”, lalu "
            "kirim ke bot baris yang tertera di sana: /start KODE"
        ),
    },
    "code_unknown": {
        "en": "This code is wrong or was used already. Get a new one in the portal (“Telegram”).",
        "id": "Kode ini salah atau sudah dipakai. Minta kode baru di portal (“Telegram”).",
    },
    "code_expired": {
        "en": "This code has expired (codes last 15 minutes). Get a new one in the portal.",
        "id": "Kode ini sudah kedaluwarsa (kode berlaku 15 menit). Minta kode baru di portal.",
    },
    "code_disabled": {
        "en": "This account may not use the bot. Ask your organisation's administrator.",
        "id": "Akun ini tidak boleh memakai bot. Hubungi administrator organisasi Anda.",
    },
    "code_missing": {
        "en": "Send the code from the portal with the command: /start CODE",
        "id": "Kirim kode dari portal bersama perintahnya: /start KODE",
    },
    "linked": {
        "en": "Linked: you report for {org} as {name}. Send /help to see how.",
        "id": "Tertaut: Anda melapor untuk {org} sebagai {name}. Kirim /help untuk caranya.",
    },
    "help": {
        "en": (
            "Send one or many t.me links to public posts (one per line, or several in a message) "
            "with a category word, for example:\n"
            "https://t.me/channel/123\nhttps://t.me/channel/124\nfraud\n\n"
            "Without a category, choose one from the buttons.\n"
            "Categories: {categories}\n\n"
            "Reply to a notice about a report to write on its thread.\n"
            "/status REPORT_ID shows where a report stands.\n"
            "Unlink this account in the portal (“Telegram”)."
        ),
        "id": (
            "Kirim satu atau banyak tautan t.me ke postingan publik (satu per baris, atau beberapa "
            "dalam satu pesan) beserta kata kategori, misalnya:\n"
            "https://t.me/kanal/123\nhttps://t.me/kanal/124\npenipuan\n\n"
            "Tanpa kategori, pilih salah satu dari tombol.\n"
            "Kategori: {categories}\n\n"
            "Balas pemberitahuan tentang sebuah laporan untuk menulis di utasnya.\n"
            "/status ID_LAPORAN menunjukkan posisi sebuah laporan.\n"
            "Lepaskan tautan akun ini di portal (“Telegram”)."
        ),
    },
    "choose": {
        "en": "{count} link(s) received. Choose their category:",
        "id": "{count} tautan diterima. Pilih kategorinya:",
    },
    "unknown_category": {
        "en": "“{word}” is not a category I know. Choose one:",
        "id": "“{word}” bukan kategori yang saya kenal. Pilih salah satu:",
    },
    "too_many": {
        "en": "At most {limit} links at once; you sent {count}. Nothing was submitted.",
        "id": (
            "Paling banyak {limit} tautan sekaligus; Anda mengirim {count}. Tidak ada yang dikirim."
        ),
    },
    "fates": {
        "en": "{category}: {accepted} accepted, {others} not. Line by line:",
        "id": "{category}: {accepted} diterima, {others} tidak. Per baris:",
    },
    "accepted": {"en": "accepted, report {ref}", "id": "diterima, laporan {ref}"},
    "duplicate": {
        "en": "already reported, report {ref}",
        "id": "sudah dilaporkan, laporan {ref}",
    },
    "unknown_post": {
        "en": "not a post Tanggap knows",
        "id": "bukan postingan yang dikenal Tanggap",
    },
    "invalid": {"en": "not accepted: {error}", "id": "tidak diterima: {error}"},
    "pressed_gone": {
        "en": "These links were submitted already, or waited too long. Send them again.",
        "id": "Tautan ini sudah dikirim, atau menunggu terlalu lama. Kirim ulang.",
    },
    "pressed_other": {
        "en": "These buttons belong to another member's links.",
        "id": "Tombol ini milik tautan anggota lain.",
    },
    "pressed_bad": {
        "en": "This button is not one I know. Send the links again.",
        "id": "Tombol ini tidak saya kenal. Kirim ulang tautannya.",
    },
    "not_a_notice": {
        "en": (
            "That message is not a notice about a report. Reply to a notice to write on its "
            "report's thread."
        ),
        "id": (
            "Pesan itu bukan pemberitahuan tentang laporan. Balas sebuah pemberitahuan untuk "
            "menulis di utas laporannya."
        ),
    },
    "thread_sent": {
        "en": "Written on the thread of report {ref}.",
        "id": "Ditulis di utas laporan {ref}.",
    },
    "thread_refused": {
        "en": "Not written on the thread: {error}",
        "id": "Tidak ditulis di utas: {error}",
    },
    "status_usage": {
        "en": "Send /status followed by a report id, for example /status {example}",
        "id": "Kirim /status diikuti ID laporan, misalnya /status {example}",
    },
    "status_unknown": {
        "en": "No report {ref} of your organisation.",
        "id": "Tidak ada laporan {ref} dari organisasi Anda.",
    },
    "status": {
        "en": "Report {ref}\n{url}\nCategory: {category}\nStatus: {status}",
        "id": "Laporan {ref}\n{url}\nKategori: {category}\nStatus: {status}",
    },
}


def say(key: str, language: str, **values: object) -> str:
    """Return the bot's text ``key`` in ``language`` (English when it has no such language)."""
    text = TEXTS[key]
    return (text.get(language) or text["en"]).format(**values)


def language_of(code: str | None) -> str:
    """Return the bot's language for a Telegram language code (a stranger's app setting)."""
    return "id" if (code or "").lower().startswith(("id", "in")) else "en"
