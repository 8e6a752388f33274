"""The Bot API stand-in, driven by a real aiogram Bot over real HTTP.

One stand-in and one bot serve the whole module (closing an aiogram session costs a quarter of
a second); the stand-in is reset before each test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot, html
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)

from bot.standin import StandIn

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOKEN = "123456:TEST-TOKEN"
GROUP = -100500


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def server() -> AsyncIterator[StandIn]:
    async with StandIn(token=TOKEN) as standin:
        yield standin


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def bot(server: StandIn) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
    bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    yield bot
    await session.close()


@pytest.fixture(autouse=True)
def fresh(server: StandIn) -> Iterator[None]:
    server.reset()
    yield


def person(server: StandIn, user_id: int = 1001) -> dict[str, Any]:
    """A person who has written to the bot, so that it may answer them."""
    user = server.make_user(user_id)
    server.message_update(user, "/start")
    return user


def keyboard(**button: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Go", **button)]])


async def test_a_message_round_trip_is_recorded_and_kept(server: StandIn, bot: Bot) -> None:
    user = person(server)
    sent = await bot.send_message(
        user["id"], "<b>Bonjour</b> &amp; bienvenue", reply_markup=keyboard(callback_data="go")
    )
    assert sent.text == "Bonjour & bienvenue"
    assert sent.html_text == "<b>Bonjour</b> &amp; bienvenue"
    assert sent.reply_markup is not None and sent.reply_markup.inline_keyboard[0][0].text == "Go"
    [call] = server.calls_of("sendMessage")
    assert call.params["chat_id"] == user["id"] and call.params["parse_mode"] == "HTML"
    assert call.params["text"] == "<b>Bonjour</b> &amp; bienvenue"
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "go"
    mine, theirs = server.chat_messages(user["id"])
    assert mine["text"] == "/start" and mine["from"] == user
    assert mine["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert theirs["message_id"] == sent.message_id == 2 and theirs["from"]["is_bot"]
    assert server.message(user["id"], sent.message_id) == theirs


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("é <b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("a&nbsp;b", 'Unsupported HTML entity "&nbsp;" at byte offset 1'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
async def test_html_telegram_cannot_parse_is_refused(
    server: StandIn, bot: Bot, text: str, description: str
) -> None:
    user = person(server)
    with pytest.raises(TelegramBadRequest) as refused:
        await bot.send_message(user["id"], text)
    assert refused.value.message == f"Bad Request: can't parse entities: {description}"
    [call] = server.calls_of("sendMessage", include_failed=True)
    assert not call.ok and call.status == 400 and call.error == refused.value.message
    assert server.calls_of("sendMessage") == []


async def test_quoted_text_and_a_bare_ampersand_pass(server: StandIn, bot: Bot) -> None:
    user = person(server)
    typed = '<script> & &nbsp; 1<2 "quoted"'
    assert (await bot.send_message(user["id"], html.quote(typed))).text == typed
    assert (await bot.send_message(user["id"], "Tom & Jerry")).text == "Tom & Jerry"
    assert (await bot.send_message(user["id"], "<x>", parse_mode=None)).text == "<x>"


async def test_length_is_counted_on_the_visible_text_in_utf16(server: StandIn, bot: Bot) -> None:
    user = person(server)
    for text in ("a" * 4096, "&amp;" * 4096, "<b>" + "é" * 4096 + "</b>", "😀" * 2048):
        await bot.send_message(user["id"], text)
    for text in ("a" * 4097, "&amp;" * 4097, "😀" * 2048 + "a"):
        with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
            await bot.send_message(user["id"], text)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
        await bot.send_message(user["id"], "<b> </b>")


async def test_inline_keyboards_are_checked(server: StandIn, bot: Bot) -> None:
    user = person(server)
    ok = await bot.send_message(user["id"], "ok", reply_markup=keyboard(callback_data="é" * 32))
    refusals = [
        (keyboard(callback_data="x" * 65), "Bad Request: BUTTON_DATA_INVALID"),
        (keyboard(url="javascript:alert(1)"), "Bad Request: BUTTON_URL_INVALID"),
        (keyboard(), "Text buttons are unallowed in the inline keyboard"),
    ]
    row = [InlineKeyboardButton(text=str(i), callback_data=str(i)) for i in range(101)]
    refusals.append((InlineKeyboardMarkup(inline_keyboard=[row]), "reply markup is too long"))
    for markup, description in refusals:
        with pytest.raises(TelegramBadRequest, match=description):
            await bot.send_message(user["id"], "no", reply_markup=markup)
    # Refused messages took no message id.
    assert (await bot.send_message(user["id"], "next")).message_id == ok.message_id + 1


async def test_edits_are_kept_and_refused_like_telegram(server: StandIn, bot: Bot) -> None:
    user = person(server)
    sent = await bot.send_message(user["id"], "Step 1", reply_markup=keyboard(callback_data="a"))
    with pytest.raises(TelegramBadRequest, match="message is not modified: specified new"):
        await bot.edit_message_text(
            "Step 1", chat_id=user["id"], message_id=sent.message_id,
            reply_markup=keyboard(callback_data="a"),
        )  # fmt: skip
    await bot.edit_message_text("<i>Step 2</i>", chat_id=user["id"], message_id=sent.message_id)
    current = server.message(user["id"], sent.message_id)
    assert current is not None and current["text"] == "Step 2" and "reply_markup" not in current
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await bot.edit_message_text("x", chat_id=user["id"], message_id=999)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message can't be edited"):
        await bot.edit_message_text("x", chat_id=user["id"], message_id=1)
    document = BufferedInputFile(b"data", "a.txt")
    with_caption = await bot.send_document(user["id"], document, caption="caption")
    with pytest.raises(TelegramBadRequest, match="there is no text in the message to edit"):
        await bot.edit_message_text("x", chat_id=user["id"], message_id=with_caption.message_id)
    await bot.delete_message(user["id"], sent.message_id)
    assert server.message(user["id"], sent.message_id) is None


async def test_injected_faults_raise_what_aiogram_raises(server: StandIn, bot: Bot) -> None:
    user = person(server)
    server.inject("sendMessage", status=429, retry_after=7)
    with pytest.raises(TelegramRetryAfter) as flood:
        await bot.send_message(user["id"], "x")
    assert flood.value.retry_after == 7
    server.inject("sendMessage", status=403)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(user["id"], "x")
    server.inject(status=500, chat_id=user["id"])
    await bot.get_me()  # another method, no chat: not this fault's
    with pytest.raises(TelegramServerError, match="Internal Server Error"):
        await bot.send_message(user["id"], "x")
    await bot.send_message(user["id"], "each fault answers once")
    assert [c.status for c in server.calls_of("sendMessage", True)] == [429, 403, 500, 200]


async def test_a_delayed_answer_times_out_but_the_message_is_sent(
    server: StandIn, bot: Bot
) -> None:
    user = person(server)
    server.inject("sendMessage", status=0, delay=0.3)
    with pytest.raises(TelegramNetworkError, match="Request timeout error"):
        await bot.send_message(user["id"], "slow", request_timeout=0.1)  # type: ignore[arg-type]
    # As with Telegram, a request the client gave up on may still have been carried out.
    for _ in range(50):
        if server.calls_of("sendMessage"):
            break
        await asyncio.sleep(0.02)
    assert [m.get("text") for m in server.chat_messages(user["id"])] == ["/start", "slow"]


async def test_long_polling_serves_confirms_and_wakes(server: StandIn, bot: Bot) -> None:
    user = server.make_user(7)
    first = server.message_update(user, "hello")
    server.push_update(first)
    [update] = await bot.get_updates(timeout=0)
    assert update.update_id == first["update_id"] and update.message.text == "hello"
    # Not confirmed yet: served again; then the offset confirms it.
    assert len(await bot.get_updates(timeout=0)) == 1
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == []
    waiting = asyncio.create_task(bot.get_updates(offset=update.update_id + 1, timeout=5))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    server.push_update(server.message_update(user, "/help"))
    # Woken by the update, well before the long poll's 5 s are over.
    [woken] = await asyncio.wait_for(waiting, 4)
    assert woken.message.text == "/help"


async def test_documents_are_kept_and_downloadable(server: StandIn, bot: Bot) -> None:
    user = person(server)
    content = "name;score\nÉlise;3\n".encode()
    sent = await bot.send_document(
        user["id"], BufferedInputFile(content, "report.csv"), caption="<b>Report</b>"
    )
    assert sent.document is not None and sent.document.file_name == "report.csv"
    assert sent.caption == "Report"
    [call] = server.calls_of("sendDocument")
    assert call.files == {"document": ("report.csv", content)}
    downloaded = await bot.download(sent.document)
    assert downloaded is not None and downloaded.read() == content
    again = await bot.send_document(user["id"], sent.document.file_id)
    assert again.document is not None and again.document.file_id == sent.document.file_id
    photo = await bot.send_photo(user["id"], BufferedInputFile(b"\x89PNG", "p.png"))
    assert photo.photo is not None
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(user["id"], photo.photo[-1].file_id, caption="a" * 1025)
    with pytest.raises(TelegramBadRequest, match="type of file mismatch"):
        await bot.send_photo(user["id"], sent.document.file_id)


async def test_rate_limits_count_violations(server: StandIn, bot: Bot) -> None:
    user, other = person(server, 1), person(server, 2)
    server.enforce_limits()
    await bot.send_message(user["id"], "one")
    with pytest.raises(TelegramRetryAfter) as flood:
        await bot.send_message(user["id"], "two, within the same second")
    assert flood.value.retry_after == 1 and server.violations == 1
    await bot.send_message(other["id"], "another chat is not limited by the first")
    server.disable_limits()
    await bot.send_message(user["id"], "limits off")
    assert server.violations == 1


async def test_chats_the_bot_may_not_write_to(server: StandIn, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await bot.send_message(404, "x")
    seen_in_group = server.make_user(5)
    server.message_update(seen_in_group, "hi all", chat=server.make_group(GROUP))
    await bot.send_message(GROUP, "the group is known now")
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation"):
        await bot.send_message(5, "x")
    user = person(server)
    server.my_chat_member_update(user, "kicked")
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(user["id"], "x")
    server.unblock(user["id"])
    await bot.send_message(user["id"], "welcome back")


async def test_chat_members_and_chats(server: StandIn, bot: Bot) -> None:
    server.set_chat_member(GROUP, 42, "administrator")
    assert (await bot.get_chat_member(GROUP, 42)).status == "administrator"
    assert (await bot.get_chat_member(GROUP, 43)).status == "left"
    server.set_chat_member(GROUP, 43, "kicked")
    assert (await bot.get_chat_member(GROUP, 43)).status == "kicked"
    assert (await bot.get_chat(GROUP)).title == "Coordinators"
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.get_chat_member(-1, 42)


async def test_callback_queries_are_answered_once(server: StandIn, bot: Bot) -> None:
    user = person(server)
    sent = await bot.send_message(user["id"], "Choose", reply_markup=keyboard(callback_data="a"))
    message = server.message(user["id"], sent.message_id)
    assert message is not None
    update = server.callback_update(user, message, "a")
    query = update["callback_query"]
    assert query["message"]["reply_markup"] and query["data"] == "a"
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(query["id"], text="x" * 201)
    await bot.answer_callback_query(query["id"], text="Done")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query["id"])


async def test_commands_are_kept_per_scope_and_checked(server: StandIn, bot: Bot) -> None:
    private = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands([BotCommand(command="start", description="Start")], private)
    await bot.set_my_commands([BotCommand(command="help", description="Aide")], private, "fr")
    assert [c.command for c in await bot.get_my_commands(private)] == ["start"]
    assert [c.command for c in await bot.get_my_commands(private, "fr")] == ["help"]
    assert await bot.get_my_commands() == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start", description="x")])
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_DESCRIPTION_INVALID"):
        await bot.set_my_commands([BotCommand(command="start", description="x" * 257)])
    await bot.delete_my_commands(private)
    assert await bot.get_my_commands(private) == []


async def test_wrong_token_and_unknown_method(server: StandIn) -> None:
    async with aiohttp.ClientSession() as client:
        async with client.post(f"{server.base_url}/bot1:WRONG/getMe") as response:
            assert response.status == 401
            assert (await response.json())["description"] == "Unauthorized"
        async with client.post(f"{server.base_url}/bot{TOKEN}/sendTelepathy") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False, "error_code": 404, "description": "Not Found"
            }  # fmt: skip
    assert [(c.method, c.status) for c in server.calls] == [("getMe", 401), ("sendTelepathy", 404)]
