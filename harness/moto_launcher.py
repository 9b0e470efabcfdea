"""Start moto_server with the small fixes Kiln's local harness needs (moto 5.2.1).

Each patch is applied before `moto.server.main()` and fixes one measured bug in moto's Step Functions
interpreter (see /work/shared/HARNESS.md and test/harness/README.md). They are deliberately narrow: they wrap
the buggy function and leave the rest of moto untouched, so a newer moto that fixes a bug only makes the
wrapper a no-op. `KILN_MOTO_PATCHES=0` starts plain moto (used to show the bugs still exist upstream).

The launcher also exits when its stdin closes: the Node harness holds the other end of that pipe, so moto
never outlives the test worker or CLI that started it, even when that process is killed with SIGKILL.
"""

import copy
import datetime
import os
import sys
import threading


def _patch_clone_without_backend() -> None:
    """StartExecution deep-copies the state machine, and with it `backend` (every other state machine and
    their running executions, whose worker threads hold an RLock): the second StartExecution fails with
    `cannot pickle '_thread.RLock'`. Share the backend and drop past executions from the copy instead."""
    import moto.stepfunctions.parser.models as parser_models

    real_deepcopy = copy.deepcopy

    def clone_state_machine(state_machine, memo=None):
        memo = {} if memo is None else memo
        backend = getattr(state_machine, "backend", None)
        if backend is not None:
            memo[id(backend)] = backend
        executions = getattr(state_machine, "executions", None)
        if executions is not None:
            memo[id(executions)] = []
        return real_deepcopy(state_machine, memo)

    class _CopyModule:
        deepcopy = staticmethod(clone_state_machine)

    # parser/models.py calls `copy.deepcopy(state_machine)` only in start_execution.
    parser_models.copy = _CopyModule()


def _patch_execution_names() -> None:
    """Without a name the parser backend builds the ARN from `None`: every unnamed execution is `...:None`
    and the second one is taken for the first. AWS (and moto's non-executing backend) use a UUID."""
    import uuid

    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    real_start = StepFunctionsParserBackend.start_execution

    def start_execution(self, state_machine_arn, name=None, execution_input=None, trace_header=None):
        return real_start(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)

    StepFunctionsParserBackend.start_execution = start_execution


def _patch_output_datetimes() -> None:
    """A successful execution keeps its output as a Python object; DescribeExecution then `json.dumps` it and
    fails on the datetimes that `aws-sdk:ec2` task results carry. Serialize it once, the way the interpreter
    itself encodes state data (ISO dates), when the execution ends."""
    from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    real_reflect = BaseExecutionWorkerCommunication._reflect_execution_status

    def reflect_execution_status(self):
        real_reflect(self)
        output = self.execution.output
        if output is not None and not isinstance(output, str):
            self.execution.output = to_json_str(output, separators=(",", ":"))

    BaseExecutionWorkerCommunication._reflect_execution_status = reflect_execution_status


def _patch_cloudformation_state_machines() -> None:
    """CloudFormation creates state machines in the plain Step Functions backend even when execution is on,
    so StartExecution (served by the executing backend) cannot find a stack's state machine. Route the
    CloudFormation hooks to the backend the API uses."""
    import moto.stepfunctions.models as sfn_models
    from moto.stepfunctions.responses import get_backend

    class _BackendByConfig:
        def __getitem__(self, account_id):
            class _Regions:
                def __getitem__(self, region_name):
                    return get_backend(account_id, region_name)

            return _Regions()

    # Only the CloudFormation classmethods in models.py read this module global by name.
    sfn_models.stepfunctions_backends = _BackendByConfig()


def _patch_json_path_parse_cache() -> None:
    """The Step Functions interpreter parses every JSONPath each time it evaluates it (InputPath, Parameters,
    ResultPath, Choice variables, SecondsPath), and jsonpath_ng's parser builds its grammar on each call: 13.9 ms
    per `jsonpath_ng.ext.parse`, 4.4 ms per `jsonpath_ng.parse`, measured here, so a state machine looping on a
    Wait costs tens of ms of moto's one CPU per turn (500 builds waiting for fleet slots saturated it before any
    finished). Parsed paths are immutable: parse each path once. Applied before the patches that import `parse`."""
    import functools

    import jsonpath_ng
    import jsonpath_ng.ext

    import moto.stepfunctions.parser.asl.component.common.path.result_path as result_path
    import moto.stepfunctions.parser.asl.utils.json_path as json_path

    ext_parse = functools.lru_cache(maxsize=4096)(jsonpath_ng.ext.parse)
    plain_parse = functools.lru_cache(maxsize=4096)(jsonpath_ng.parse)
    jsonpath_ng.ext.parse = ext_parse
    jsonpath_ng.parse = plain_parse
    # Modules that bound `parse` at import.
    if getattr(json_path, "parse", None) is ext_parse.__wrapped__:
        json_path.parse = ext_parse
    if getattr(result_path, "parse", None) is plain_parse.__wrapped__:
        result_path.parse = plain_parse


def _patch_definite_json_paths() -> None:
    """`$.Instances[0].InstanceId` evaluates to `["i-..."]` in moto (a fix for moto issue 7825 wraps any match
    reached through an array index), where AWS returns the string. AWS follows Jayway JsonPath: a *definite*
    path (no wildcard, slice, filter, deep scan or union) yields its single value, never a list."""
    import importlib
    import re

    from jsonpath_ng.ext import parse

    import moto.stepfunctions.parser.asl.utils.json_path as json_path

    real_extract = json_path.extract_json
    indefinite = re.compile(r"\*|\.\.|\?\(|\[[^\]]*[:,][^\]]*\]")

    def extract_json(path, data):
        if not indefinite.search(path):
            matches = parse(path).find(data)
            if len(matches) == 1:
                return matches[0].value
        return real_extract(path, data)

    # Modules bind the function at import (`from ...json_path import extract_json`): rebind it in each one
    # whose source names it, found by reading the installed package rather than by a list that could go stale.
    import moto
    import moto.stepfunctions.parser as parser_package

    site_packages = os.path.dirname(os.path.dirname(moto.__file__))
    package_dir = os.path.dirname(parser_package.__file__)
    for root, _dirs, files in os.walk(package_dir):
        for file in files:
            if not file.endswith(".py"):
                continue
            with open(os.path.join(root, file), encoding="utf-8") as source:
                if "extract_json" not in source.read():
                    continue
            relative = os.path.relpath(os.path.join(root, file[:-3]), site_packages)
            module = importlib.import_module(relative.replace(os.sep, "."))
            if getattr(module, "extract_json", None) is real_extract:
                module.extract_json = extract_json
    json_path.extract_json = extract_json


def _patch_rule_targets_moto_cannot_deliver() -> None:
    """A rule with a target moto cannot deliver to (a state machine) raises NotImplementedError: PutEvents
    answers HTTP 500, and on the S3 path the error is swallowed so every rule evaluated after it misses the
    event. Deliver to the targets moto supports and log the others, so one rule cannot hide an event from the
    rest (the harness mirrors state machine targets through SQS; see harness/event-pump.ts)."""
    from moto.events.models import Rule
    from moto.utilities.arns import parse_arn

    real_send = Rule.send_to_targets

    def deliverable(target) -> bool:
        arn = parse_arn(target["Arn"])
        return arn.service in ("sqs", "events") or (arn.service == "logs" and arn.resource_type == "log-group")

    def send_to_targets(self, original_event, transform_input=True):
        targets = self.targets
        kept = [t for t in targets if deliverable(t)]
        if len(kept) != len(targets) and self.event_pattern.matches_event(original_event):
            skipped = ", ".join(t["Arn"] for t in targets if not deliverable(t))
            print(f"kiln-moto-launcher: rule {self.name}: moto cannot deliver to {skipped}", flush=True)
        self.targets = kept
        try:
            real_send(self, original_event, transform_input)
        finally:
            self.targets = targets

    Rule.send_to_targets = send_to_targets


def _patch_kms_stack_tags() -> None:
    """CloudFormation gives AWS::KMS::Key tags as `Key`/`Value`; moto hands them to the KMS tagger, which
    wants `TagKey`/`TagValue`, and CreateStack fails with `KeyError: 'TagKey'`. Rename them on the way in."""
    from moto.kms.models import Key

    real_create = Key.create_from_cloudformation_json.__func__

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json.get("Properties", {})
        tags = properties.get("Tags")
        if tags:
            properties["Tags"] = [
                {"TagKey": t.get("Key", t.get("TagKey")), "TagValue": t.get("Value", t.get("TagValue"))} for t in tags
            ]
        return real_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)

    Key.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)


def _patch_root_volume_without_size() -> None:
    """AWS accepts an EBS block device mapping with neither VolumeSize nor SnapshotId for the AMI's root device
    (the size comes from the AMI's snapshot; Packer and Kiln send `{DeleteOnTermination, Encrypted}` that way).
    moto rejects it with `MissingParameter: size or snapshotId`. Give it moto's default root size (8 GiB)."""
    from moto.ec2.responses.instances import InstanceResponse

    real_validate = InstanceResponse._validate_block_device_mapping

    def validate_block_device_mapping(device_mapping):
        ebs = device_mapping.get("Ebs")
        if isinstance(ebs, dict) and not ebs.get("VolumeSize") and not ebs.get("SnapshotId"):
            ebs["VolumeSize"] = 8
        return real_validate(device_mapping)

    InstanceResponse._validate_block_device_mapping = staticmethod(validate_block_device_mapping)


def _patch_create_image_snapshot_tags() -> None:
    """AWS's CreateImage accepts TagSpecifications for `image` and `snapshot` and tags the new snapshots as they are
    created; moto raises NotImplementedError (HTTP 500) for `snapshot`. Kiln tags snapshots at creation so that a
    failed build can delete the snapshots of a still-pending AMI (DeleteSnapshot is conditioned on the build tag):
    apply the snapshot tags to the AMI's snapshot after moto created it."""
    from moto.ec2.models.amis import AmiBackend

    real_create_image = AmiBackend.create_image

    def create_image(self, instance_id, name, description, tag_specifications):
        specs = tag_specifications or []
        snapshot_tags = [t for s in specs if s.get("ResourceType") == "snapshot" for t in s.get("Tags", [])]
        others = [s for s in specs if s.get("ResourceType") != "snapshot"]
        ami = real_create_image(self, instance_id, name, description, tag_specifications=others)
        snapshot = getattr(ami, "ebs_snapshot", None)
        if snapshot is not None:
            for tag in snapshot_tags:
                snapshot.add_tag(tag["Key"], tag["Value"])
        return ami

    AmiBackend.create_image = create_image


def _patch_signature_query_encoding() -> None:
    """With IAM enforced, moto recomputes each request's SigV4 signature from the URL it received, whose query
    string arrives decoded: `prefix=a%2Fb%2F` (as every SDK signs it) becomes `prefix=a/b/`, and a ListObjectsV2
    with a folder prefix fails with SignatureDoesNotMatch. Re-encode the query as SigV4 prescribes (RFC 3986
    unreserved characters only) before the signature is computed."""
    from urllib.parse import quote, unquote, urlsplit, urlunsplit

    from moto.iam.access_control import IAMRequestBase

    real_create = IAMRequestBase._create_aws_request

    def create_aws_request(self):
        request = real_create(self)
        parts = urlsplit(request.url)
        if parts.query:
            pairs = []
            for pair in parts.query.split("&"):
                key, sep, value = pair.partition("=")
                encoded = quote(unquote(key), safe="-_.~")
                pairs.append(encoded + "=" + quote(unquote(value), safe="-_.~") if sep else encoded)
            request.url = urlunsplit(parts._replace(query="&".join(pairs)))
        return request

    IAMRequestBase._create_aws_request = create_aws_request


def _patch_signature_arn_in_path() -> None:
    """REST APIs that take an ARN as one path segment (EventBridge Scheduler's `/tags/{ResourceArn}`) send it
    percent-encoded (`arn%3Aaws%3A...%2Fkiln`) and SDKs sign that form encoded once more; moto recomputes the
    signature from the decoded path, where the ARN's `/` is a separator, and answers SignatureDoesNotMatch (so
    `kiln schedules add`, which reads the schedule group's tags, could not run on the emulator with IAM on).
    Encode the ARN segment again as the caller did before the signature is computed."""
    from urllib.parse import quote, urlsplit, urlunsplit

    from moto.iam.access_control import IAMRequestBase

    real_create = IAMRequestBase._create_aws_request

    def create_aws_request(self):
        request = real_create(self)
        parts = urlsplit(request.url)
        head, sep, arn = parts.path.partition("/tags/arn:")
        if sep and head == "":
            request.url = urlunsplit(parts._replace(path="/tags/" + quote("arn:" + arn, safe="-_.~")))
        return request

    IAMRequestBase._create_aws_request = create_aws_request


def _patch_unknown_resource_matches_action() -> None:
    """moto knows the resource of a request only for S3; every other service is authorized against resource
    `*`, which a least-privilege statement (`Resource: <table ARN>`) never matches, so a correct policy is
    denied. When moto does not know the resource, let a statement apply on its action alone: moto then proves
    the action is granted (on some resource), and the IAM simulator replay checks resources and conditions."""
    from moto.iam.access_control import IAMPolicyStatement

    real_matches = IAMPolicyStatement._check_element_matches

    def check_element_matches(self, statement_element, value):
        if statement_element in ("Resource", "NotResource") and value == "*":
            return statement_element == "Resource"
        return real_matches(self, statement_element, value)

    IAMPolicyStatement._check_element_matches = check_element_matches


def _patch_presigned_urls() -> None:
    """moto's IAM enforcement reads the signer only from the Authorization header, so a presigned URL (the
    signature in the query, as Kiln's file provisioner fetches staged files with curl) fails with HTTP 500
    `KeyError: 'HTTP_AUTHORIZATION'`. Take the signer and its session token from the query instead and authorize
    the request as that signer. The query signature itself is not recomputed (an honest limit, README)."""
    from urllib.parse import parse_qs, urlsplit

    from moto.iam.access_control import IAMRequestBase

    real_init = IAMRequestBase.__init__
    real_check_signature = IAMRequestBase.check_signature

    def init(self, account_id, method, path, data, body, headers, action):
        query = parse_qs(urlsplit(path).query)
        presigned = "Authorization" not in headers and "X-Amz-Credential" in query
        if presigned:
            headers = dict(headers)
            headers["Authorization"] = (
                f"AWS4-HMAC-SHA256 Credential={query['X-Amz-Credential'][0]}, "
                f"SignedHeaders={query.get('X-Amz-SignedHeaders', ['host'])[0]}, "
                f"Signature={query.get('X-Amz-Signature', [''])[0]}"
            )
            if "X-Amz-Security-Token" in query:
                headers["X-Amz-Security-Token"] = query["X-Amz-Security-Token"][0]
        real_init(self, account_id, method, path, data, body, headers, action)
        self._kiln_presigned = presigned

    def check_signature(self):
        if getattr(self, "_kiln_presigned", False):
            return
        real_check_signature(self)

    IAMRequestBase.__init__ = init
    IAMRequestBase.check_signature = check_signature


def _patch_step_functions_credentials() -> None:
    """moto's Step Functions interpreter signs its service calls with fixed keys `ak`/`sk`, which IAM enforcement
    rejects. Step Functions calls services with credentials of the state machine's role (or a Task's
    `Credentials.RoleArn`): assume that role through moto's STS and sign with it. Each issued access key is
    appended to `KILN_ASSUMED_ROLES_FILE` (one JSON line), so the harness router can tell which role calls it."""
    import glob
    import importlib
    import json
    import time

    import boto3
    from botocore.config import Config

    import moto.stepfunctions.parser.asl.utils.boto_client as boto_client_module
    from moto.sts.models import sts_backends

    real_for = boto_client_module.boto_client_for
    sessions = {}
    lock = threading.Lock()
    record_file = os.environ.get("KILN_ASSUMED_ROLES_FILE")

    def credentials_for(role_arn, region):
        account = role_arn.split(":")[4]
        backend = sts_backends[account]["aws"]
        with lock:
            held = sessions.get(role_arn)
            # Reused while moto still knows the session (a reset forgets it) and it has ten minutes left.
            if held is not None and held[0] in backend.assumed_roles and held[1] - time.time() > 600:
                return held[0]
            role = backend.assume_role(
                region_name=region,
                role_session_name="kiln-states",
                role_arn=role_arn,
                policy=None,
                duration=3600,
                external_id=None,
            )
            sessions[role_arn] = (role, time.time() + 3600)
            if record_file:
                with open(record_file, "a", encoding="utf-8") as out:
                    out.write(json.dumps({"accessKeyId": role.access_key_id, "roleArn": role_arn}) + "\n")
            return role

    clients = {}

    def boto_client_for(region, service, state_credentials=None):
        role_arn = getattr(state_credentials, "role_arn", None)
        if not role_arn or not str(role_arn).startswith("arn:"):
            return real_for(region, service, state_credentials)
        role = credentials_for(role_arn, region)
        # One client per session, region and service (boto3 clients are thread-safe): making one per task costs
        # tens of ms of this process's CPU, which hundreds of concurrent executions cannot afford.
        key = (role.access_key_id, region, service)
        with lock:
            client = clients.get(key)
            if client is None:
                client = boto3.client(
                    service_name=service,
                    region_name=region,
                    endpoint_url=f"http://localhost:{moto_server_port()}",
                    aws_access_key_id=role.access_key_id,
                    aws_secret_access_key=role.secret_access_key,
                    aws_session_token=role.session_token,
                    # Step Functions waits for a Lambda task up to the function's timeout (at most 900 s), not
                    # botocore's 60 s read timeout; connections enough for many executions at once.
                    config=Config(
                        parameter_validation=False,
                        retries={"max_attempts": 0, "total_max_attempts": 1},
                        read_timeout=960,
                        max_pool_connections=64,
                    ),
                )
                clients[key] = client
            return client

    from moto.settings import moto_server_port

    boto_client_module.boto_client_for = boto_client_for
    # Each caller imported the function by name: rebind it in every module of the interpreter that uses it.
    root = os.path.dirname(os.path.dirname(os.path.dirname(boto_client_module.__file__)))
    for path in glob.glob(os.path.join(root, "**", "*.py"), recursive=True):
        with open(path, encoding="utf-8") as source:
            if "import boto_client_for" not in source.read():
                continue
        relative = os.path.relpath(path, os.path.dirname(os.path.dirname(os.path.dirname(root))))
        module = importlib.import_module(relative[: -len(".py")].replace(os.sep, "."))
        if getattr(module, "boto_client_for", None) is real_for:
            module.boto_client_for = boto_client_for


def _patch_multi_object_delete() -> None:
    """S3 DeleteObjects (POST ?delete) needs `s3:DeleteObject` on each key, as AWS checks it. moto authorizes it
    once against the bucket ARN, which a prefix-scoped grant (`bucket/builds/*`) never matches, so Kiln's cleanup
    of staged files was denied. Authorize each key of the request body instead."""
    import re

    from moto.iam.access_control import S3IAMRequest

    real_check = S3IAMRequest.check_action_permitted

    def check_action_permitted(self, resource):
        body = self._body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        keys = re.findall(rb"<Key>([^<]*)</Key>", body)
        if self._action == "s3:DeleteObject" and "/" not in resource.split(":::", 1)[-1] and keys:
            from xml.sax.saxutils import unescape

            for key in keys:
                real_check(self, f"{resource}/{unescape(key.decode('utf-8'))}")
            return
        real_check(self, resource)

    S3IAMRequest.check_action_permitted = check_action_permitted


def _patch_transact_write_items() -> None:
    """DynamoDB TransactWriteItems has no IAM action of its own: AWS authorizes each item as the operation it is
    (`dynamodb:PutItem`, `UpdateItem`, `DeleteItem`, `ConditionCheckItem`). moto authorizes the request as
    `dynamodb:TransactWriteItems`, which no policy grants, so the registry's writes were denied. Authorize each
    item's operation instead (the IAM simulator replay checks the table ARNs)."""
    import json

    from moto.iam.access_control import IAMRequest

    real_check = IAMRequest.check_action_permitted
    operations = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}

    def check_action_permitted(self, resource):
        if self._action != "dynamodb:TransactWriteItems":
            return real_check(self, resource)
        body = self._body or b"{}"
        try:
            items = json.loads(body).get("TransactItems") or []
        except ValueError:
            return real_check(self, resource)
        actions = {f"dynamodb:{operations[k]}" for item in items for k in item if k in operations}
        for action in sorted(actions) or ["dynamodb:TransactWriteItems"]:
            self._action = action
            try:
                real_check(self, resource)
            finally:
                self._action = "dynamodb:TransactWriteItems"

    IAMRequest.check_action_permitted = check_action_permitted


def _patch_ecr_image_digest() -> None:
    """ECR's image digest is the SHA-256 of the manifest bytes (what the registry answers as
    Docker-Content-Digest and what users pull by); moto 5.2.1 hashes the concatenated layer digests instead, so
    DescribeImages never matched the pushed image. Hash the manifest as given to PutImage."""
    import hashlib

    from moto.ecr.models import Image

    def create_digest(self) -> None:
        self._image_digest = "sha256:" + hashlib.sha256(self.image_manifest.encode("utf-8")).hexdigest()

    Image._create_digest = create_digest


def _patch_ecr_put_image_missing_repository() -> None:
    """PutImage into a repository that does not exist raises a bare Exception (HTTP 500); ECR answers
    RepositoryNotFoundException."""
    from moto.ecr.exceptions import RepositoryNotFoundException
    from moto.ecr.models import ECRBackend

    real_put_image = ECRBackend.put_image

    def put_image(self, repository_name, *args, **kwargs):
        if repository_name not in self.repositories:
            raise RepositoryNotFoundException(repository_name, self.account_id)
        return real_put_image(self, repository_name, *args, **kwargs)

    ECRBackend.put_image = put_image


def _patch_send_task_failure_cause() -> None:
    """SendTaskFailure drops its `cause` (the response handler passes the error only), so a task failed by the
    agent gateway reaches Catch with Cause null instead of the agent's reason. Pass it on, as Step Functions does."""
    from moto.core.responses import EmptyResult
    from moto.stepfunctions.responses import StepFunctionResponse

    def send_task_failure(self):
        self.stepfunction_backend.send_task_failure(
            self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
        )
        return EmptyResult()

    StepFunctionResponse.send_task_failure = send_task_failure


def _patch_dynamodb_atomic_writes() -> None:
    """DynamoDB applies each write (its condition check and its change) atomically per item, and a transaction
    as a whole. moto's server answers requests on threads with no lock around a DynamoDB call: two UpdateItems
    conditioned on `status = QUEUED` both pass their check and both write (measured: 20 agents racing for 200
    jobs got one job twice), and concurrent TransactWriteItems deep-copy tables other threads are changing (HTTP
    500). Serialize DynamoDB calls, which restores what DynamoDB guarantees."""
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.Lock()
    real_call = DynamoHandler.call_action

    def call_action(self):
        with lock:
            return real_call(self)

    DynamoHandler.call_action = call_action


def _patch_transaction_backup() -> None:
    """TransactWriteItems backs up every table it names with a deepcopy of the whole table, once per item, before
    it writes (moto 5.2.1), so a transaction costs O(items in the table): the fleet table of a 500-build run holds
    ~500 waiter items, and its acquire transactions made moto's one Python process the bottleneck (measured ~97 %
    CPU, ~0.25 builds/s). The rollback only needs the items the transaction touches: back up a table as a shallow
    copy whose item containers are copied and whose touched items are deep-copied. DynamoDB calls are serialized
    (`_patch_dynamodb_atomic_writes`), so nothing else changes the table between the backup and a rollback."""
    from collections import defaultdict

    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    local = threading.local()

    def backup(table: Table) -> Table:
        touched = getattr(local, "touched", {}).get(table.name, [])
        clone = copy.copy(table)
        if table.range_key_attr is not None:
            items = defaultdict(dict)
            for hash_value, ranges in table.items.items():
                items[hash_value] = dict(ranges)
            for hash_value, range_value in touched:
                item = table.items[hash_value].get(range_value) if hash_value in table.items else None
                if item is not None:
                    items[hash_value][range_value] = copy.deepcopy(item)
        else:
            items = defaultdict(dict, table.items)
            for hash_value, _ in touched:
                if hash_value in table.items:
                    items[hash_value] = copy.deepcopy(table.items[hash_value])
        clone.items = items
        return clone

    class CopyWithTableBackup:
        def __getattr__(self, name):
            return getattr(copy, name)

        def deepcopy(self, value, memo=None):
            if isinstance(value, Table) and getattr(local, "touched", None) is not None:
                return backup(value)
            return copy.deepcopy(value, memo)

    models.copy = CopyWithTableBackup()
    real_transact = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        touched: dict = {}
        for entry in transact_items:
            for op_type, op in entry.items():
                table = self.tables.get(op.get("TableName") or "")
                key = op.get("Item") if op_type == "Put" else op.get("Key")
                if table is None or not isinstance(key, dict) or table.hash_key_attr not in key:
                    continue
                range_attr = table.range_key_attr
                range_value = DynamoType(key[range_attr]) if range_attr and range_attr in key else None
                touched.setdefault(table.name, []).append((DynamoType(key[table.hash_key_attr]), range_value))
        local.touched = touched
        try:
            return real_transact(self, transact_items)
        finally:
            local.touched = None

    DynamoDBBackend.transact_write_items = transact_write_items


def _patch_image_deprecation() -> None:
    """EC2's EnableImageDeprecation sets an AMI's DeprecationTime (DescribeImages returns it); moto 5.2.1 does not
    implement it (the lifecycle function and `kiln artifacts revoke` deprecate Kiln's AMIs). Record the time on
    moto's image and return it as DescribeImages' DeprecationTime, as EC2 does (seconds dropped, UTC)."""
    from moto.ec2.exceptions import InvalidAMIIdError
    from moto.ec2.models.amis import Ami
    from moto.core.responses import ActionResult
    from moto.ec2.responses.amis import AmisResponse

    def enable_image_deprecation(self):
        ami_id = self._get_param("ImageId")
        deprecate_at = self._get_param("DeprecateAt")
        self.error_on_dryrun()
        images = self.ec2_backend.describe_images(ami_ids=[ami_id])
        if not images:
            raise InvalidAMIIdError(ami_id)
        at = deprecate_at if isinstance(deprecate_at, str) else deprecate_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        images[0].deprecation_time = at[:16] + ":00.000Z"
        return ActionResult({"Return": True})

    AmisResponse.enable_image_deprecation = enable_image_deprecation
    if not hasattr(Ami, "deprecation_time"):
        Ami.deprecation_time = None


def _patch_lambda_client_error_names() -> None:
    """A Task invoking a Lambda function fails with `Lambda.<code>` when the Invoke call itself fails (throttling:
    `Lambda.TooManyRequestsException`, the error the ASL's Retry names); moto names every such failure `Exception`,
    so no Retry matched a throttled invocation. Name it as Step Functions does. A failure to reach the Lambda
    endpoint at all (a connection closed or refused, a read timeout) is `Lambda.SdkClientException`, as Step
    Functions names client-side failures of its Lambda calls (the ASL retries it)."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda

    real_from_error = StateTaskLambda._from_error

    def _from_error(self, env, ex):
        event = real_from_error(self, env, ex)
        if isinstance(ex, (ClientError, ConnectionError, HTTPClientError)):
            if isinstance(ex, ClientError):
                name = f"Lambda.{ex.response.get('Error', {}).get('Code', 'Exception')}"
            else:
                name = "Lambda.SdkClientException"
            event.error_name = CustomErrorName(name)
            details = getattr(event.event_details, "get", None)
            failed = details("lambdaFunctionFailedEventDetails") if details else None
            if isinstance(failed, dict):
                failed["error"] = name
        return event

    StateTaskLambda._from_error = _from_error


def apply_patches() -> None:
    _patch_clone_without_backend()
    _patch_execution_names()
    _patch_output_datetimes()
    _patch_cloudformation_state_machines()
    _patch_json_path_parse_cache()
    _patch_definite_json_paths()
    _patch_rule_targets_moto_cannot_deliver()
    _patch_kms_stack_tags()
    _patch_root_volume_without_size()
    _patch_create_image_snapshot_tags()
    _patch_signature_query_encoding()
    _patch_signature_arn_in_path()
    _patch_unknown_resource_matches_action()
    _patch_presigned_urls()
    _patch_step_functions_credentials()
    _patch_multi_object_delete()
    _patch_transact_write_items()
    _patch_ecr_image_digest()
    _patch_ecr_put_image_missing_repository()
    _patch_dynamodb_atomic_writes()
    _patch_transaction_backup()
    _patch_send_task_failure_cause()
    _patch_image_deprecation()
    _patch_lambda_client_error_names()


def _exit_when_parent_goes() -> None:
    def watch() -> None:
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main() -> None:
    if os.environ.get("KILN_MOTO_PATCHES", "1") != "0":
        apply_patches()
    if os.environ.get("KILN_MOTO_WATCH_STDIN", "1") != "0":
        _exit_when_parent_goes()
    # Printed before the server binds; the harness waits for HTTP instead of parsing this.
    print(f"kiln-moto-launcher: patches applied at {datetime.datetime.now().isoformat()}", flush=True)

    from moto.server import main as moto_main

    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
