"""SMS: segment counting, rendering, and the Africa's Talking and Twilio adapters.

The provider modules are not imported here, so importing ``channels.sms`` does not load the
twilio SDK; import ``channels.sms.africastalking`` / ``channels.sms.twilio`` where needed.
"""

from channels.sms.base import SendResult, SmsSender
from channels.sms.render import page_count, render_sms
from channels.sms.segments import encoding, segments

__all__ = ["SendResult", "SmsSender", "encoding", "page_count", "render_sms", "segments"]
