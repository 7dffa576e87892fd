"""Invariants of template.yaml that cfn-lint and `sam validate` do not check.

Run by scripts/test with the project's .venv (cfn-lint's decoder reads CloudFormation's YAML tags).
"""

import json
import re
import tomllib
import unittest
from pathlib import Path

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE, MATCHES = decode(str(ROOT / "template.yaml"))
RESOURCES = TEMPLATE["Resources"]
SECRET = {"Fn::If": ["CreateAuthSecret", {"Ref": "AuthTokenSecret"}, {"Ref": "ExistingAuthSecretArn"}]}
TABLES = ("CallsTable", "SentTextsTable", "OptOutsTable", "LeadEventsTable")
# What each function may do with the token: read it, and decrypt it with its own key only through Secrets Manager.
READ_TOKEN = [
    ("Allow", ("secretsmanager:GetSecretValue",), SECRET),
    ("Allow if HasAuthSecretKmsKey", ("kms:Decrypt",), {"Ref": "ExistingAuthSecretKmsKeyArn"}),
]
# A publish to a phone number names no ARN ("*"); one to anything with an SNS ARN (a topic) is denied.
PUBLISH_SMS = [
    ("Allow", ("sns:CheckIfPhoneNumberIsOptedOut", "sns:Publish"), "*"),
    ("Deny", ("sns:Publish",), {"Fn::Sub": "arn:${AWS::Partition}:sns:*:*:*"}),
]


def of_type(kind):
    return {name: resource for name, resource in RESOURCES.items() if resource["Type"] == kind}


def table_arn(table, suffix=""):
    """A table's ARN, whether this stack created it or an earlier deployment did (attached by name)."""
    created = {"Fn::GetAtt": [table, "Arn"]} if not suffix else {"Fn::Sub": "${%s.Arn}%s" % (table, suffix)}
    existing = {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Existing%sName}%s" % (table, suffix)}
    return {"Fn::If": [f"Create{table}", created, existing]}


def table_name(table):
    return {"Fn::If": [f"Create{table}", {"Ref": table}, {"Ref": f"Existing{table}Name"}]}


def policy_statements(statements):
    """(effect, actions, resource) of each statement; one under a condition says so in its effect."""
    found = []
    for statement in statements:
        condition = None
        if "Fn::If" in statement:
            condition, statement, otherwise = statement["Fn::If"]
            assert otherwise == {"Ref": "AWS::NoValue"}, statement
        actions = statement["Action"]
        effect = statement["Effect"] + (f" if {condition}" if condition else "")
        found.append((effect, tuple(sorted([actions] if isinstance(actions, str) else actions)), statement["Resource"]))
    return found


def statements(function):
    """(effect, actions, resource) for every statement of a function's policies: inline, and this template's
    managed policies it names."""
    found = []
    for policy in RESOURCES[function]["Properties"]["Policies"]:
        if set(policy) == {"Ref"}:
            managed = RESOURCES[policy["Ref"]]
            assert managed["Type"] == "AWS::IAM::ManagedPolicy", policy
            found += policy_statements(managed["Properties"]["PolicyDocument"]["Statement"])
        else:
            assert set(policy) == {"Statement"}, f"{function}: inline statements or this template's managed policies"
            found += policy_statements(policy["Statement"])
    return sorted(found, key=repr)


# Identifiers quoted: FUNCTION is a Metrics Insights reserved keyword (in any case), and so may a metric name be.
INSIGHTS = re.compile(r'^SELECT SUM\("(\w+)"\) FROM SCHEMA\("\$\{MetricsNamespace\}", "function"\)$')


def alarmed(alarm):
    """The metric names an alarm reads: single metrics, metric-math queries, and Metrics Insights sums (which
    functions each is read from: tests/tests/template_metrics.rs)."""
    properties = alarm["Properties"]
    names = {properties["MetricName"]} if "MetricName" in properties else set()
    for query in properties.get("Metrics", []):
        if "MetricStat" in query:
            names.add(query["MetricStat"]["Metric"]["MetricName"])
        elif isinstance(query.get("Expression"), dict):
            match = INSIGHTS.match(query["Expression"]["Fn::Sub"])
            assert match, query
            names.add(match.group(1))
    return names


def substitute(text):
    """Fn::Sub placeholders replaced by dummy values, to check what the text becomes."""
    return re.sub(r"\$\{[^}]+\}", "x", text)


class TemplateTest(unittest.TestCase):
    def test_template_decodes(self):
        self.assertEqual(MATCHES, [])

    def test_functions_are_arm64_rust_on_al2023_with_a_timeout_below_api_gateways(self):
        function = TEMPLATE["Globals"]["Function"]
        self.assertEqual(function["Runtime"], "provided.al2023")
        self.assertEqual(function["Handler"], "bootstrap")
        self.assertEqual(function["Architectures"], [{"Ref": "Architecture"}])
        self.assertEqual(TEMPLATE["Parameters"]["Architecture"]["Default"], "arm64")
        self.assertEqual(set(TEMPLATE["Parameters"]["Architecture"]["AllowedValues"]), {"arm64", "x86_64"})
        self.assertLess(function["Timeout"], 30)
        functions = of_type("AWS::Serverless::Function")
        binaries = [
            ("SendTextFunction", "send-text"),
            ("PostCallFunction", "post-call"),
            ("TextOptOutFunction", "text-optout"),
            ("LeadEventsFunction", "lead-events"),
            ("SmsDeliveryStatusFunction", "sms-delivery-status"),
            ("RedriveFunction", "redrive"),
        ]
        self.assertEqual(set(functions), {name for name, _ in binaries})
        for name, function in functions.items():
            # Only the function no caller waits on may run longer than API Gateway's 30 s.
            not_behind_http = name in ("SmsDeliveryStatusFunction", "RedriveFunction")
            self.assertLessEqual(function["Properties"].get("Timeout", 0), 60 if not_behind_http else 29)
        for name, binary in binaries:
            self.assertEqual(functions[name]["Metadata"], {"BuildMethod": "rust-cargolambda", "BuildProperties": {"Binary": binary}})
            self.assertEqual(functions[name]["Properties"]["CodeUri"], ".")

    def test_iam_is_exactly_what_each_function_does(self):
        self.assertEqual(
            statements("PostCallFunction"),
            sorted(
                [
                    ("Allow", ("dynamodb:PutItem",), table_arn("CallsTable")),
                    ("Allow", ("dynamodb:PutItem",), table_arn("OptOutsTable")),
                    ("Allow", ("sqs:SendMessage",), {"Fn::GetAtt": ["FallbackQueue", "Arn"]}),
                ]
                + READ_TOKEN,
                key=repr,
            ),
        )
        # The redrive does post-call's, send-text's, text-optout's and lead-events' work, with neither the token nor
        # sending to the queue; it only delivers again, when due, a message it received (its own queue, an earlier
        # stack's).
        fallback_queues = {
            "Fn::If": [
                "HasExistingFallbackQueue",
                [{"Fn::GetAtt": ["FallbackQueue", "Arn"]}, {"Ref": "ExistingFallbackQueueArn"}],
                {"Fn::GetAtt": ["FallbackQueue", "Arn"]},
            ]
        }
        self.assertEqual(
            statements("RedriveFunction"),
            sorted(
                [
                    ("Allow", ("sqs:ChangeMessageVisibility",), fallback_queues),
                    ("Allow", ("dynamodb:PutItem", "dynamodb:UpdateItem"), table_arn("CallsTable")),
                    ("Allow", ("dynamodb:PutItem",), table_arn("LeadEventsTable")),
                    ("Allow", ("dynamodb:GetItem", "dynamodb:PutItem"), table_arn("OptOutsTable")),
                    ("Allow", ("dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"), table_arn("SentTextsTable")),
                ]
                + PUBLISH_SMS,
                key=repr,
            ),
        )
        self.assertEqual(
            statements("TextOptOutFunction"),
            sorted(
                [
                    ("Allow", ("dynamodb:PutItem",), table_arn("OptOutsTable")),
                    ("Allow", ("sqs:SendMessage",), {"Fn::GetAtt": ["FallbackQueue", "Arn"]}),
                ]
                + READ_TOKEN,
                key=repr,
            ),
        )
        # A lead event is stored, a transfer set on its call (never a call's record written), a number listed.
        self.assertEqual(
            statements("LeadEventsFunction"),
            sorted(
                [
                    ("Allow", ("dynamodb:PutItem",), table_arn("LeadEventsTable")),
                    ("Allow", ("dynamodb:UpdateItem",), table_arn("CallsTable")),
                    ("Allow", ("dynamodb:PutItem",), table_arn("OptOutsTable")),
                    ("Allow", ("sqs:SendMessage",), {"Fn::GetAtt": ["FallbackQueue", "Arn"]}),
                ]
                + READ_TOKEN,
                key=repr,
            ),
        )
        self.assertEqual(
            statements("SendTextFunction"),
            sorted(
                [
                    ("Allow", ("dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"), table_arn("SentTextsTable")),
                    ("Allow", ("dynamodb:GetItem",), table_arn("OptOutsTable")),
                    ("Allow", ("sqs:SendMessage",), {"Fn::GetAtt": ["FallbackQueue", "Arn"]}),
                ]
                + PUBLISH_SMS
                + READ_TOKEN,
                key=repr,
            ),
        )
        self.assertEqual(
            statements("SmsDeliveryStatusFunction"),
            sorted(
                [
                    ("Allow", ("dynamodb:Query",), table_arn("SentTextsTable", "/index/by-message-id")),
                    ("Allow", ("dynamodb:UpdateItem",), table_arn("SentTextsTable")),
                ],
                key=repr,
            ),
        )
        self.assertNotIn("FullAccess", json.dumps(TEMPLATE))
        (decrypt,) = [s for s in RESOURCES["ReadAuthTokenPolicy"]["Properties"]["PolicyDocument"]["Statement"] if "Fn::If" in s]
        self.assertEqual(
            decrypt["Fn::If"][1]["Condition"],
            {"StringEquals": {"kms:ViaService": {"Fn::Sub": "secretsmanager.${AWS::Region}.${AWS::URLSuffix}"}}},
        )

    def test_tables_keep_their_data(self):
        tables = of_type("AWS::DynamoDB::Table")
        self.assertEqual(set(tables), set(TABLES))
        # A text is its id and its type: a pre-call and a post-voicemail text may share 2X's id.
        keys = {
            "CallsTable": [("id", "N", "HASH")],
            "SentTextsTable": [("id", "N", "HASH"), ("text_type", "S", "RANGE")],
            "OptOutsTable": [("phone", "S", "HASH")],
            # A lead's events by number; the same body again is the same event (2X sends them without an id).
            "LeadEventsTable": [("phone", "S", "HASH"), ("event", "S", "RANGE")],
        }
        for name, table in tables.items():
            properties = table["Properties"]
            self.assertEqual(properties["DeletionProtectionEnabled"], True, name)
            self.assertEqual(properties["BillingMode"], "PAY_PER_REQUEST", name)
            expected = [{"AttributeName": key, "KeyType": kind} for key, _, kind in keys[name]]
            self.assertEqual(properties["KeySchema"], expected, name)
            for key, key_type, _ in keys[name]:
                self.assertIn({"AttributeName": key, "AttributeType": key_type}, properties["AttributeDefinitions"], name)
            self.assertEqual(properties["PointInTimeRecoverySpecification"], {"PointInTimeRecoveryEnabled": True}, name)
            self.assertEqual(properties["SSESpecification"], {"SSEEnabled": True}, name)
            if name == "OptOutsTable":
                # A suppression must not expire with RetentionDays: the lead would be texted again.
                self.assertNotIn("TimeToLiveSpecification", properties)
            else:
                self.assertEqual(properties["TimeToLiveSpecification"], {"AttributeName": "expires_at", "Enabled": True}, name)

    def test_stateful_resources_outlive_the_stack(self):
        # Deleting the stack, or a change that replaces one of these, must not take the suppression list, the
        # sent-texts ledger, the call records, the token, queued deliveries or the logs with it. A first deploy
        # that rolls back leaves nothing behind (RetainExceptOnCreate): no empty tables, no fixed-name log group
        # that would fail the next attempt.
        kept = ("AWS::DynamoDB::Table", "AWS::SecretsManager::Secret", "AWS::SQS::Queue", "AWS::Logs::LogGroup")
        for name, resource in RESOURCES.items():
            if resource["Type"] in kept:
                policies = (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy"))
                self.assertEqual(policies, ("RetainExceptOnCreate", "Retain"), name)
        # The alarm topic's key encrypts notifications in flight only: deleted with the stack, on purpose.
        key = RESOURCES["AlarmTopicKey"]
        self.assertEqual((key["DeletionPolicy"], key["UpdateReplacePolicy"]), ("Delete", "Delete"))

    def test_a_redeploy_attaches_what_an_earlier_deployment_kept(self):
        parameters, conditions = TEMPLATE["Parameters"], TEMPLATE["Conditions"]
        for table in TABLES:
            parameter = f"Existing{table}Name"
            self.assertEqual(parameters[parameter]["Default"], "")
            self.assertEqual(conditions[f"Create{table}"], {"Fn::Equals": [{"Ref": parameter}, ""]})
            self.assertEqual(RESOURCES[table]["Condition"], f"Create{table}")
            self.assertEqual(TEMPLATE["Outputs"][f"{table}Name"]["Value"], table_name(table))
        # Every mention of a table goes through the choice: none names the created table alone.
        for name, resource in RESOURCES.items():
            text = json.dumps(resource)
            for table in TABLES:
                bare = text.count(f'{{"Ref": "{table}"}}') + text.count(f'{{"Fn::GetAtt": ["{table}", "Arn"]}}') + text.count("${%s.Arn}" % table)
                chosen = text.count(f'"Create{table}"')
                self.assertLessEqual(bare, chosen, f"{name} names {table} without Create{table}")
        variables = {}
        for function in of_type("AWS::Serverless::Function").values():
            variables.update(function["Properties"].get("Environment", {}).get("Variables", {}))
        variables.update(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"])
        self.assertEqual(variables["CALLS_TABLE"], table_name("CallsTable"))
        self.assertEqual(variables["SENT_TEXTS_TABLE"], table_name("SentTextsTable"))
        self.assertEqual(variables["OPT_OUTS_TABLE"], table_name("OptOutsTable"))
        self.assertEqual(variables["LEAD_EVENTS_TABLE"], table_name("LeadEventsTable"))
        self.assertEqual(TEMPLATE["Outputs"]["AuthSecretArn"]["Value"], SECRET)

    def test_an_existing_secret_is_named_by_its_complete_arn(self):
        pattern = re.compile(TEMPLATE["Parameters"]["ExistingAuthSecretArn"]["AllowedPattern"])
        complete = "arn:aws:secretsmanager:us-east-1:123456789012:secret:twox/token-a1B2c3"
        self.assertTrue(pattern.fullmatch(complete))
        self.assertTrue(pattern.fullmatch(""))
        # Without the 6 characters Secrets Manager appends, IAM's resource matches no secret.
        self.assertFalse(pattern.fullmatch("arn:aws:secretsmanager:us-east-1:123456789012:secret:twox/token"))
        key = re.compile(TEMPLATE["Parameters"]["ExistingAuthSecretKmsKeyArn"]["AllowedPattern"])
        self.assertTrue(key.fullmatch("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"))
        self.assertTrue(key.fullmatch("arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"))
        self.assertFalse(key.fullmatch("arn:aws:kms:us-east-1:123456789012:alias/aws/secretsmanager"))

    def test_every_number_is_bounded_and_whole_numbers_are_patterns(self):
        # CloudFormation accepts 600.5 for a Number: only properties that take a fraction may be Numbers.
        fractions_allowed = {"DeliveryFailureAlarmPercent", "ApiThrottlingRateLimit", "LogRetentionDays"}
        for name, parameter in TEMPLATE["Parameters"].items():
            if parameter["Type"] == "Number":
                self.assertIn(name, fractions_allowed, f"{name}: a whole number must be a String with a pattern")
                self.assertTrue("AllowedValues" in parameter or {"MinValue", "MaxValue"} <= set(parameter), name)
        whole = {"QueuedTextMaxAgeSeconds": (60, 1209600), "QueuedPostVoicemailTextMaxAgeSeconds": (60, 1209600),
                 "ApiThrottlingBurstLimit": (1, 5000), "RedriveMaximumConcurrency": (2, 1000)}
        for name, (low, high) in whole.items():
            pattern = re.compile(TEMPLATE["Parameters"][name]["AllowedPattern"])
            accepted = [n for n in range(0, high + 2) if pattern.fullmatch(str(n))]
            self.assertEqual((accepted[0], accepted[-1], len(accepted)), (low, high, high - low + 1), name)
            for refused in (f"{low}.5", f"0{low}", "", f"{low} "):
                self.assertFalse(pattern.fullmatch(refused), f"{name} accepts {refused!r}")

    def test_calls_can_be_looked_up_by_phone_newest_first(self):
        (index,) = RESOURCES["CallsTable"]["Properties"]["GlobalSecondaryIndexes"]
        self.assertEqual(
            index["KeySchema"],
            [{"AttributeName": "phone_e164", "KeyType": "HASH"}, {"AttributeName": "received_at", "KeyType": "RANGE"}],
        )

    def test_sent_texts_can_be_found_by_their_sns_message_id_and_by_phone(self):
        index, by_phone = RESOURCES["SentTextsTable"]["Properties"]["GlobalSecondaryIndexes"]
        self.assertEqual(
            (by_phone["IndexName"], by_phone["KeySchema"]),
            ("by-phone", [{"AttributeName": "phone_e164", "KeyType": "HASH"}, {"AttributeName": "received_at", "KeyType": "RANGE"}]),
        )
        history = (ROOT / "crates/lead-history/src/aws.rs").read_text()
        for attribute in by_phone["Projection"]["NonKeyAttributes"]:
            self.assertIn(f'"{attribute}"', history, f"lead-history does not read {attribute}: why project it?")
        self.assertEqual(index["IndexName"], "by-message-id")
        self.assertEqual(index["KeySchema"], [{"AttributeName": "message_id", "KeyType": "HASH"}])
        self.assertIn({"AttributeName": "message_id", "AttributeType": "S"}, RESOURCES["SentTextsTable"]["Properties"]["AttributeDefinitions"])
        adapter = (ROOT / "functions/sms-delivery-status/src/adapters/dynamodb.rs").read_text()
        self.assertIn('MESSAGE_ID_INDEX: &str = "by-message-id"', adapter)

    def test_sns_delivery_records_reach_the_function_and_nothing_is_lost(self):
        prefix = "sns/${AWS::Region}/${AWS::AccountId}/DirectPublishToPhoneNumber"
        groups = {"DeliveredTextsLogGroup": prefix, "FailedTextsLogGroup": prefix + "/Failure"}
        function = RESOURCES["SmsDeliveryStatusFunction"]["Properties"]
        subscribed = set()
        for event in function["Events"].values():
            self.assertEqual(event["Type"], "CloudWatchLogs")
            self.assertEqual(event["Properties"]["FilterPattern"], "")
            # The group this stack created, or (already there: an earlier deployment's, another stack's, SNS's
            # own) the same group by its name.
            condition, created, existing = event["Properties"]["LogGroupName"]["Fn::If"]
            self.assertEqual(condition, "CreateSmsDeliveryLogGroups")
            self.assertEqual(existing, RESOURCES[created["Ref"]]["Properties"]["LogGroupName"])
            subscribed.add(created["Ref"])
        self.assertEqual(subscribed, set(groups))
        self.assertEqual(TEMPLATE["Conditions"]["CreateSmsDeliveryLogGroups"], {"Fn::Equals": [{"Ref": "CreateSmsDeliveryLogGroups"}, "true"]})
        self.assertEqual(TEMPLATE["Parameters"]["CreateSmsDeliveryLogGroups"]["Default"], "true")
        for name, log_group in groups.items():
            self.assertEqual(RESOURCES[name]["Condition"], "CreateSmsDeliveryLogGroups")
            properties = RESOURCES[name]["Properties"]
            self.assertEqual(properties["LogGroupName"], {"Fn::Sub": log_group})
            self.assertEqual(properties["RetentionInDays"], {"Ref": "LogRetentionDays"})
        role = RESOURCES["SmsDeliveryStatusRole"]["Properties"]
        (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
        self.assertEqual(trust["Principal"], {"Service": "sns.amazonaws.com"})
        self.assertEqual(trust["Condition"], {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}})
        (policy,) = role["Policies"]
        (statement,) = policy["PolicyDocument"]["Statement"]
        self.assertTrue(statement["Resource"]["Fn::Sub"].endswith(":log-group:" + prefix + "*"), "both groups and their streams")
        self.assertIn("logs:PutLogEvents", statement["Action"])
        # A batch that failed every attempt is kept, encrypted, and alarmed.
        self.assertEqual(function["DeadLetterQueue"], {"Type": "SQS", "TargetArn": {"Fn::GetAtt": ["SmsDeliveryStatusDeadLetterQueue", "Arn"]}})
        self.assertEqual(function["EventInvokeConfig"]["MaximumRetryAttempts"], 2)
        queue = RESOURCES["SmsDeliveryStatusDeadLetterQueue"]["Properties"]
        self.assertEqual((queue["SqsManagedSseEnabled"], queue["MessageRetentionPeriod"]), (True, 1209600))
        command = TEMPLATE["Outputs"]["EnableSmsDeliveryStatusCommand"]["Value"]["Fn::Sub"]
        self.assertIn("aws sns set-sms-attributes", command)
        self.assertIn("DeliveryStatusIAMRole=${SmsDeliveryStatusRole.Arn}", command)
        self.assertIn("DeliveryStatusSuccessSamplingRate=100", command)

    def test_what_a_webhook_could_not_complete_waits_on_an_encrypted_queue_the_redrive_drains(self):
        queue = RESOURCES["FallbackQueue"]["Properties"]
        dead_letters = RESOURCES["FallbackDeadLetterQueue"]["Properties"]
        for properties in (queue, dead_letters):
            self.assertTrue(properties["SqsManagedSseEnabled"])
            self.assertEqual(properties["MessageRetentionPeriod"], 1209600)
        self.assertEqual(queue["RedrivePolicy"]["deadLetterTargetArn"], {"Fn::GetAtt": ["FallbackDeadLetterQueue", "Arn"]})
        redrive = RESOURCES["RedriveFunction"]["Properties"]
        self.assertGreaterEqual(queue["VisibilityTimeout"], 6 * redrive["Timeout"], "AWS's guidance for SQS event sources")
        (source,) = redrive["Events"].values()
        self.assertEqual(source["Type"], "SQS")
        # A re-deploy's redrive drains the queue an earlier deployment kept, as it does its own.
        existing = RESOURCES["ExistingFallbackQueueEventSource"]
        self.assertEqual(existing["Condition"], "HasExistingFallbackQueue")
        self.assertEqual(TEMPLATE["Conditions"]["HasExistingFallbackQueue"], {"Fn::Not": [{"Fn::Equals": [{"Ref": "ExistingFallbackQueueArn"}, ""]}]})
        self.assertEqual(existing["Properties"]["EventSourceArn"], {"Ref": "ExistingFallbackQueueArn"})
        self.assertEqual(existing["Properties"]["FunctionName"], {"Ref": "RedriveFunction"})
        for setting in ("BatchSize", "FunctionResponseTypes", "ScalingConfig"):
            self.assertEqual(existing["Properties"][setting], source["Properties"][setting], setting)
        self.assertEqual(TEMPLATE["Outputs"]["FallbackQueueArn"]["Value"], {"Fn::GetAtt": ["FallbackQueue", "Arn"]})
        self.assertEqual(source["Properties"]["ScalingConfig"], {"MaximumConcurrency": {"Ref": "RedriveMaximumConcurrency"}})
        self.assertEqual(source["Properties"]["Queue"], {"Fn::GetAtt": ["FallbackQueue", "Arn"]})
        self.assertEqual(source["Properties"]["FunctionResponseTypes"], ["ReportBatchItemFailures"])
        for webhook in ("PostCallFunction", "SendTextFunction", "TextOptOutFunction"):
            variables = RESOURCES[webhook]["Properties"]["Environment"]["Variables"]
            self.assertEqual(variables["FALLBACK_QUEUE_URL"], {"Ref": "FallbackQueue"}, webhook)
        # The one command that moves the dead letters back: SQS's own redrive, to the queue they came from.
        command = TEMPLATE["Outputs"]["MoveFallbackDeadLettersBackCommand"]["Value"]["Fn::Sub"]
        self.assertIn("aws sqs start-message-move-task", command)
        self.assertIn("--source-arn ${FallbackDeadLetterQueue.Arn}", command)
        self.assertNotIn("--destination-arn", command, "without it SQS moves them back to their source queue")
        watched = {metric for alarm in of_type("AWS::CloudWatch::Alarm").values() for metric in alarmed(alarm)}
        self.assertLessEqual({"Expired", "ApproximateAgeOfOldestMessage"}, watched)

    def test_the_token_is_only_in_secrets_manager(self):
        for name, parameter in TEMPLATE["Parameters"].items():
            self.assertNotRegex(name, "Token(?!Secret)", "no token parameter")
        environment = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
        every_variable = dict(environment)
        for function in of_type("AWS::Serverless::Function").values():
            every_variable.update(function["Properties"].get("Environment", {}).get("Variables", {}))
        self.assertNotIn("AUTH_TOKEN", every_variable)
        self.assertNotIn("AUTH_TOKEN_PREVIOUS", every_variable)
        self.assertEqual(environment["AUTH_TOKEN_SECRET_ID"], SECRET)
        secret = RESOURCES["AuthTokenSecret"]["Properties"]
        self.assertNotIn("SecretString", secret, "the token is generated, never written into the template")
        self.assertEqual(secret["GenerateSecretString"]["GenerateStringKey"], "current")

    def test_every_environment_variable_is_one_the_function_reads(self):
        common = (ROOT / "crates/webhook/src/config.rs").read_text()
        shared = set(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"])
        for name, function in of_type("AWS::Serverless::Function").items():
            binary = function["Metadata"]["BuildProperties"]["Binary"]
            own = (ROOT / "functions" / binary / "src/config.rs").read_text()
            # A function reads the settings of the work it does through its domain crates' settings.rs (the
            # redrive those of every kind of work, and the auth settings among Globals reach it and are ignored).
            manifest = (ROOT / "functions" / binary / "Cargo.toml").read_text()
            production = manifest.split("[dependencies]")[1].split("\n[")[0]
            own += "".join(
                (ROOT / "crates" / domain / "src/settings.rs").read_text()
                for domain in ("texts", "calls", "leads")
                if re.search(rf"^{domain}\b", production, re.MULTILINE)
            )
            variables = set(function["Properties"].get("Environment", {}).get("Variables", {}))
            if "WebhookSettings<" in own:
                # The webhook functions read the settings the template shares through Globals.
                config, variables = common + own, variables | shared
            else:
                # Globals reach every function; one that is not a webhook ignores them (no secret is among them).
                config = own
            for variable in variables:
                self.assertIn(f'"{variable}"', config, f"{name}: {variable} is read by neither config.rs")

    def test_logs_are_json_in_log_groups_with_retention(self):
        for name in of_type("AWS::Serverless::Function"):
            logging = RESOURCES[name]["Properties"]["LoggingConfig"]
            self.assertEqual(logging["LogFormat"], "JSON")
            group = RESOURCES[logging["LogGroup"]["Ref"]]
            self.assertEqual(group["Type"], "AWS::Logs::LogGroup")
            self.assertEqual(group["Properties"]["RetentionInDays"], {"Ref": "LogRetentionDays"})

    def test_the_api_routes_throttles_and_logs_json(self):
        routes = set()
        for name, function in of_type("AWS::Serverless::Function").items():
            if name in ("SmsDeliveryStatusFunction", "RedriveFunction"):
                continue  # invoked by CloudWatch Logs and by SQS, not over HTTP
            for event in function["Properties"]["Events"].values():
                self.assertEqual(event["Type"], "HttpApi")
                self.assertEqual(event["Properties"]["ApiId"], {"Ref": "WebhookApi"})
                routes.add((event["Properties"]["Method"], event["Properties"]["Path"]))
        # HTTP API routes cannot end in "/" (SAM silently creates no route for one): each webhook has the one
        # documented full-match route, and the URL given to 2X is that path (docs/http-contract.md).
        # lead-events answers one route per 2X webhook about a lead (leads::event::LeadRoute).
        paths = ["send-text", "post-call", "text-optout", "text", "text-classification", "text-response", "text-reply",
                 "transfer-type", "inbound-call"]
        self.assertEqual(routes, {("POST", f"/{name}") for name in paths})
        outputs = {"SendTextUrl": "send-text", "PostCallUrl": "post-call", "TextOptOutUrl": "text-optout", "TextUrl": "text",
                   "TextClassificationUrl": "text-classification", "TextResponseUrl": "text-response",
                   "TransferTypeUrl": "transfer-type", "InboundCallUrl": "inbound-call"}
        for output, path in outputs.items():
            url = TEMPLATE["Outputs"][output]["Value"]["Fn::Sub"]
            self.assertEqual(url.rsplit("/", 1)[1], path, output)
        routes_read = (ROOT / "crates/leads/src/event.rs").read_text()
        for path in paths[3:]:
            self.assertIn(f'"{path}"', routes_read, f"lead-events does not answer /{path}")
        api = RESOURCES["WebhookApi"]["Properties"]
        self.assertEqual(
            api["DefaultRouteSettings"],
            {"ThrottlingRateLimit": {"Ref": "ApiThrottlingRateLimit"}, "ThrottlingBurstLimit": {"Ref": "ApiThrottlingBurstLimit"}},
        )
        self.assertEqual(api["AccessLogSettings"]["DestinationArn"], {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]})
        self.assertIn("requestId", json.loads(api["AccessLogSettings"]["Format"]))

    def test_alarms_cover_what_the_operators_need_and_all_notify_the_topic(self):
        alarms = of_type("AWS::CloudWatch::Alarm")
        watched = set()
        for name, alarm in alarms.items():
            properties = alarm["Properties"]
            self.assertEqual(properties["AlarmActions"], [{"Ref": "AlarmTopic"}], name)
            self.assertEqual(properties["TreatMissingData"], "notBreaching", name)
            watched |= alarmed(alarm)
        self.assertEqual(
            watched,
            {"Errors", "Throttles", "Duration", "5xx", "Unauthorized", "SmsPublishFailed", "Unconfirmed", "DependencyFailed", "OptOutLookupFailed",
             "ApproximateNumberOfMessagesVisible", "Delivered", "DeliveryFailed", "Sent", "Queued", "Expired",
             "ApproximateAgeOfOldestMessage", "Refused", "IdReused"},
        )
        self.assertEqual(RESOURCES["AlarmEmailSubscription"]["Condition"], "HasAlarmEmail")

    def test_an_alarm_adding_metrics_fills_the_missing_ones(self):
        # Metric math drops every period in which any metric of a sum has no data point: a sum of sparse metrics
        # without FILL never alarms while only one of them counts.
        for name, alarm in of_type("AWS::CloudWatch::Alarm").items():
            for metric in alarm["Properties"].get("Metrics", []):
                expression = metric.get("Expression", "")
                if isinstance(expression, dict):
                    continue  # a Metrics Insights query: it aggregates what exists, nothing to fill
                for term in re.findall(r"[A-Za-z_]\w*", expression):
                    ids = {other["Id"] for other in alarm["Properties"]["Metrics"] if "MetricStat" in other}
                    if term in ids:
                        self.assertIn(f"FILL({term}, 0)", expression, f"{name}: {term} unfilled")

    def test_the_alarms_that_must_wake_someone_at_once_do(self):
        for alarm in ("BodiesRefusedAlarm", "IdReusedAlarm", "SmsUnconfirmedAlarm", "DependencyFailuresAlarm"):
            self.assertEqual(RESOURCES[alarm]["Properties"]["Threshold"], 1, alarm)

    def test_an_insights_query_reads_only_the_metrics_by_function(self):
        # Each count is published by function alone and, for some, by function and another dimension as well;
        # SCHEMA(namespace, function) reads the first set only, so nothing is counted twice.
        metrics = (ROOT / "crates/webhook/src/metrics.rs").read_text()
        self.assertIn('directive(namespace, &[&["function"]], &counted)', metrics)

    def test_alarms_notify_through_a_topic_whose_key_lets_cloudwatch_publish(self):
        # An alarm whose topic is under the AWS managed key (alias/aws/sns) never reaches anyone: that key's fixed
        # policy does not let CloudWatch use it.
        alarms = of_type("AWS::CloudWatch::Alarm")
        self.assertTrue(alarms)
        for name, alarm in alarms.items():
            properties = alarm["Properties"]
            for action in properties.get("AlarmActions", []) + properties.get("OKActions", []):
                topic = RESOURCES[action["Ref"]]
                self.assertEqual(topic["Type"], "AWS::SNS::Topic", name)
                key = topic["Properties"].get("KmsMasterKeyId")
                self.assertIsInstance(key, dict, f"{name}: the topic's key must be one of this template's keys, not {key!r}")
                self.assertNotIn("aws/sns", json.dumps(key), name)
                key = RESOURCES[key["Ref"]]
                self.assertEqual(key["Type"], "AWS::KMS::Key")
                self.assertTrue(key["Properties"].get("EnableKeyRotation"))
                cloudwatch = [
                    statement
                    for statement in key["Properties"]["KeyPolicy"]["Statement"]
                    if statement["Effect"] == "Allow" and statement.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
                ]
                self.assertEqual(len(cloudwatch), 1, name)
                self.assertEqual(set(cloudwatch[0]["Action"]), {"kms:Decrypt", "kms:GenerateDataKey*"})

    def test_the_dashboard_is_valid_json_and_shows_every_alarm(self):
        body, _ = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
        dashboard = json.loads(substitute(body))
        self.assertGreaterEqual(len(dashboard["widgets"]), 6)
        for alarm in of_type("AWS::CloudWatch::Alarm"):
            self.assertIn("${%s.Arn}" % alarm, body)

    def test_saved_queries_exist_for_failures_latency_texts_and_calls(self):
        queries = {q["Properties"]["Name"]["Fn::Sub"].split("/")[-1] for q in of_type("AWS::Logs::QueryDefinition").values()}
        self.assertEqual(
            queries,
            {"recent-failures", "slowest-requests", "texts-sent-by-type", "calls-by-end-reason", "suppressed-texts", "failed-texts",
             "queued-deliveries", "refused-deliveries", "texts-outside-hours", "costliest-texts", "costliest-texts-billed"},
        )

    def test_outputs_give_what_goes_into_2x_and_where_to_look(self):
        self.assertLessEqual(
            {"SendTextUrl", "PostCallUrl", "TextOptOutUrl", "AuthSecretArn", "CallsTableName", "SentTextsTableName",
             "OptOutsTableName", "DashboardUrl", "EnableSmsDeliveryStatusCommand", "FallbackQueueUrl",
             "MoveFallbackDeadLettersBackCommand"},
            set(TEMPLATE["Outputs"]),
        )



class BuildTest(unittest.TestCase):
    def test_release_builds_compile_out_debug_and_trace_logging(self):
        # Measured (docs/performance.md): the SDK's and hyper's debug/trace spans and events cost ~7% of a warm
        # invocation's CPU even when filtered out at run time; the feature removes them from release builds.
        manifest = tomllib.loads((ROOT / "Cargo.toml").read_text())
        self.assertIn("release_max_level_info", manifest["workspace"]["dependencies"]["tracing"]["features"])

    def test_release_builds_keep_unwinding_so_a_panic_becomes_an_error_not_a_dead_process(self):
        manifest = tomllib.loads((ROOT / "Cargo.toml").read_text())
        self.assertNotIn("panic", manifest["profile"]["release"])
        # Without this, cargo-lambda (and sam build through it) adds panic = "abort" to release builds.
        self.assertIs(manifest["workspace"]["metadata"]["lambda"]["build"]["disable_optimizations"], True)
        self.assertEqual(manifest["profile"]["release"], {"lto": True, "codegen-units": 1, "strip": True})


if __name__ == "__main__":
    unittest.main()
