"""Fixtures for the agents' tests: the demo shop wired with the real payment lifecycle and fake senders."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from bot import demo
from bot.bootstrap import Container
from core.tables import Organisation
from flows.messages import ChannelName
from tests.agents_support import ChatPhone, Shop, open_shop
from tests.conftest import UssdPhone


@pytest.fixture
def shop(container: Container, demo_org: Organisation) -> Shop:
    return open_shop(container, demo_org)


@pytest.fixture
def agent_ussd(client: TestClient, shop: Shop) -> UssdPhone:
    return UssdPhone(client, phone=demo.AGENT_PHONE)


@pytest.fixture
def whatsapp(shop: Shop) -> ChatPhone:
    return ChatPhone(shop.container.engine, ChannelName.WHATSAPP)


@pytest.fixture
def sms(shop: Shop) -> ChatPhone:
    return ChatPhone(shop.container.engine, ChannelName.SMS)
