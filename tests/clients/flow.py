"""The main flow, through a Python client generated from the live OpenAPI
document by openapi-python-client (run by tests/clients.rs).

    python flow.py <base url> <folder holding the generated studio_client> <picture to upload> <out.mp4>
"""

import sys
import time

base, client_dir, picture, out = sys.argv[1:5]
sys.path.insert(0, client_dir)

from studio_client import Client  # noqa: E402
from studio_client.api.assets import get_asset_content, list_assets, upload_asset  # noqa: E402
from studio_client.api.compose import compose, get_job  # noqa: E402
from studio_client.api.sessions import create_session  # noqa: E402
from studio_client.api.tools import generate_image, synthesize_audio, write_social_post  # noqa: E402
from studio_client.models import (  # noqa: E402
    Asset,
    ComposeRequest,
    ImageParams,
    JobAccepted,
    JobStatus,
    JobView,
    OutputOptions,
    OutputOptionsQualityType1,
    SocialParams,
    SocialResult,
    SpeechParams,
    TimelineItem,
    UploadForm,
)
from studio_client.types import File  # noqa: E402


def check(value, kind):
    assert isinstance(value, kind), f"expected {kind.__name__}, got {value!r}"
    return value


client = Client(base_url=base, timeout=120)
session = create_session.sync(client=client).session_id

image = check(
    generate_image.sync(session, client=client, body=ImageParams(prompt="A lighthouse at dusk")),
    Asset,
)
voice = check(
    synthesize_audio.sync(
        session,
        client=client,
        body=SpeechParams(text="A lighthouse keeps the ships safe.", voice_name="en-US-Neural2-D"),
    ),
    Asset,
)
post = check(
    write_social_post.sync(
        session,
        client=client,
        body=SocialParams(text="Lighthouses guide ships along dangerous coasts at night."),
    ),
    SocialResult,
)
assert post.title and post.hashtags.startswith("#"), post

with open(picture, "rb") as f:
    uploaded = check(
        upload_asset.sync(
            session,
            client=client,
            body=UploadForm(file=File(payload=f, file_name="mine.png", mime_type="image/png")),
        ),
        Asset,
    )

assets = list_assets.sync(session, client=client)
names = {a.name for a in assets}
assert {image.name, voice.name, uploaded.name} <= names, names

accepted = check(
    compose.sync(
        session,
        client=client,
        body=ComposeRequest(
            timeline=[
                TimelineItem(asset_id=image.name),
                TimelineItem(asset_id=voice.name),
                TimelineItem(asset_id=uploaded.name, duration=1.0),
            ],
            output=OutputOptions(quality=OutputOptionsQualityType1.DRAFT),
            async_=True,
        ),
    ),
    JobAccepted,
)

deadline = time.time() + 300
while True:
    job = check(get_job.sync(session, accepted.job_id, client=client), JobView)
    if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED):
        break
    assert time.time() < deadline, "the render did not end in time"
    time.sleep(0.2)
assert job.status == JobStatus.SUCCEEDED, job
video = job.result.additional_properties["name"]

response = get_asset_content.sync_detailed(session, video, client=client)
assert response.status_code == 200, response.status_code
with open(out, "wb") as f:
    f.write(response.content)
print(f"python client: {session} {video} {len(response.content)} bytes")
