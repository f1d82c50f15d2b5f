"""VPC links on Portico with the real boto3 `apigatewayv2` client: links made, read, listed
(paged), renamed and tagged as an AWS user does; private integrations on them (an
http:// URL whose host is only the Host header, and an ELB listener ARN); and deletion
refused while an integration uses a link, whether a current one or one frozen in a
deployment a stage serves, and allowed after. Every bad input is refused the way AWS
refuses it, with nothing stored.

    python3 vpc_links.py configure --endpoint http://127.0.0.1:9000
    python3 vpc_links.py tls --endpoint … --workdir DIR
    python3 vpc_links.py teardown --endpoint … --link-id ID --api-id ID

`configure` makes the link `orders` (subnet `east`) and the API `orders` (stage `dev`,
auto-deployed) with `ANY /internal/{proxy+}` → http://orders.internal/{proxy} and
`ANY /elb/{proxy+}` → an ELB listener ARN, both VPC_LINK through it.

`tls` writes a test PKI into DIR (a CA, and a leaf for orders.secure.test that also names
127.0.0.1, so a health check that verifies by address passes too) and makes the link
`secure` (subnet `east`) and the API `secure` with `GET /ok/{proxy+}` → https://orders.secure.test/{proxy}
(tlsConfig.serverNameToVerify orders.secure.test) and `GET /wrong/{proxy+}`, whose
serverNameToVerify (wrong.secure.test) the certificate does not name.

`teardown` checks the refusal again, deletes the API and then the link.

The rules are AWS's:
- "Working with VPC links for HTTP APIs" (statuses, deletion while in use):
  https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vpc-links.html
- "Working with private integrations for HTTP APIs" (connectionType VPC_LINK,
  connectionId, an ALB/NLB listener ARN or a Cloud Map service ARN, tlsConfig):
  https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-private.html
- The API reference's VpcLink shapes:
  https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/vpclinks.html

Prints one JSON object on stdout.
"""
import argparse
import datetime
import ipaddress
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from notes_api import client, expect_error  # noqa: E402

REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
READY = "VPC link is ready to route traffic"
ELB_LISTENER = ("arn:aws:elasticloadbalancing:us-east-1:123456789012:"
                "listener/app/orders-alb/50dc6c495c0c9188/0467ef3c8400ae65")
SECURE_NAME = "orders.secure.test"


def link_arn(link_id):
    return f"arn:aws:apigateway:{REGION}::/vpclinks/{link_id}"


def plain(response):
    """A boto3 response without its metadata, as JSON-able values."""
    return json.loads(json.dumps({k: v for k, v in response.items() if k != "ResponseMetadata"},
                                 default=str))


def all_links(gw):
    """Every link, following NextToken one item a page (the paging AWS's lists have)."""
    items, token, pages = [], None, 0
    while True:
        args = {"MaxResults": "1"}
        if token:
            args["NextToken"] = token
        page = gw.get_vpc_links(**args)
        pages += 1
        assert len(page["Items"]) <= 1, page
        items += page["Items"]
        token = page.get("NextToken")
        if not token:
            return items, pages
        assert pages < 100, "paging never ends"


def check_link(link, name, subnets, security_groups, tags):
    assert link["Name"] == name, link
    assert link["SubnetIds"] == subnets, link
    assert link["SecurityGroupIds"] == security_groups, link
    assert link.get("Tags", {}) == tags, link
    # AVAILABLE at once: nodes can use a link as soon as it is in their snapshot.
    assert link["VpcLinkStatus"] == "AVAILABLE", link
    assert link["VpcLinkStatusMessage"] == READY, link
    assert link["VpcLinkVersion"] == "V2", link
    assert isinstance(link["CreatedDate"], datetime.datetime), link
    assert link["VpcLinkId"], link


def private_integration(gw, api_id, link_id, uri, **extra):
    return gw.create_integration(
        ApiId=api_id,
        IntegrationType="HTTP_PROXY",
        ConnectionType="VPC_LINK",
        ConnectionId=link_id,
        IntegrationUri=uri,
        IntegrationMethod="ANY",
        PayloadFormatVersion="1.0",
        **extra,
    )


def configure(gw):
    errors = {}
    # Bad links are refused (400, naming the field) and nothing is stored.
    errors["no_subnets"] = expect_error(
        "BadRequestException", lambda: gw.create_vpc_link(Name="bad-link", SubnetIds=[]))
    errors["bad_subnet"] = expect_error(
        "BadRequestException", lambda: gw.create_vpc_link(Name="bad-link", SubnetIds=["east side!"]))
    errors["long_name"] = expect_error(
        "BadRequestException", lambda: gw.create_vpc_link(Name="n" * 129, SubnetIds=["east"]))
    errors["twice"] = expect_error(
        "BadRequestException", lambda: gw.create_vpc_link(Name="bad-link", SubnetIds=["east", "east"]))
    errors["unknown"] = expect_error("NotFoundException", lambda: gw.get_vpc_link(VpcLinkId="nosuch1"))
    errors["unknown_update"] = expect_error(
        "NotFoundException", lambda: gw.update_vpc_link(VpcLinkId="nosuch1", Name="x"))
    assert not gw.get_vpc_links()["Items"], "nothing stored"

    created = gw.create_vpc_link(Name="orders", SubnetIds=["east"], SecurityGroupIds=["sg-orders"],
                                 Tags={"team": "orders"})
    link_id = created["VpcLinkId"]
    check_link(created, "orders", ["east"], ["sg-orders"], {"team": "orders"})
    got = gw.get_vpc_link(VpcLinkId=link_id)
    assert plain(got) == plain(created), (got, created)

    # A second link, for paging and for the frozen-deployment case below.
    scratch = gw.create_vpc_link(Name="scratch", SubnetIds=["east", "west"])
    check_link(scratch, "scratch", ["east", "west"], [], {})
    listed, pages = all_links(gw)
    assert sorted(i["VpcLinkId"] for i in listed) == sorted([link_id, scratch["VpcLinkId"]]), listed
    assert pages == 2, pages

    renamed = gw.update_vpc_link(VpcLinkId=link_id, Name="orders-private")
    check_link(renamed, "orders-private", ["east"], ["sg-orders"], {"team": "orders"})
    assert renamed["CreatedDate"] == created["CreatedDate"], renamed
    errors["rename_empty"] = expect_error(
        "BadRequestException", lambda: gw.update_vpc_link(VpcLinkId=link_id, Name=""))
    assert gw.get_vpc_link(VpcLinkId=link_id)["Name"] == "orders-private"
    tags = gw.get_tags(ResourceArn=link_arn(link_id))["Tags"]
    assert tags == {"team": "orders"}, tags
    gw.tag_resource(ResourceArn=link_arn(link_id), Tags={"env": "e2e"})
    assert gw.get_vpc_link(VpcLinkId=link_id)["Tags"] == {"team": "orders", "env": "e2e"}

    api_id = gw.create_api(Name="orders", ProtocolType="HTTP")["ApiId"]
    # Bad private integrations are refused and nothing is stored.
    errors["unknown_connection"] = expect_error(
        "BadRequestException",
        lambda: private_integration(gw, api_id, "nosuch1", "http://orders.internal/{proxy}"))
    errors["no_connection"] = expect_error(
        "BadRequestException",
        lambda: gw.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", ConnectionType="VPC_LINK",
                                      IntegrationUri="http://orders.internal/", IntegrationMethod="ANY",
                                      PayloadFormatVersion="1.0"))
    errors["bad_uri"] = expect_error(
        "BadRequestException", lambda: private_integration(gw, api_id, link_id, "orders.internal"))
    errors["bad_arn"] = expect_error(
        "BadRequestException",
        lambda: private_integration(gw, api_id, link_id, "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/x"))
    errors["bad_server_name"] = expect_error(
        "BadRequestException",
        lambda: private_integration(gw, api_id, link_id, "https://orders.internal/",
                                    TlsConfig={"ServerNameToVerify": "not a name"}))
    assert gw.get_integrations(ApiId=api_id)["Items"] == [], "nothing stored"

    internal = private_integration(gw, api_id, link_id, "http://orders.internal/{proxy}")
    assert internal["ConnectionType"] == "VPC_LINK", internal
    assert internal["ConnectionId"] == link_id, internal
    assert internal["IntegrationUri"] == "http://orders.internal/{proxy}", internal
    elb = private_integration(gw, api_id, link_id, ELB_LISTENER)
    assert elb["IntegrationUri"] == ELB_LISTENER and elb["ConnectionId"] == link_id, elb
    got = gw.get_integration(ApiId=api_id, IntegrationId=internal["IntegrationId"])
    assert got["ConnectionType"] == "VPC_LINK" and got["ConnectionId"] == link_id, got
    gw.create_route(ApiId=api_id, RouteKey="ANY /internal/{proxy+}",
                    Target=f"integrations/{internal['IntegrationId']}")
    gw.create_route(ApiId=api_id, RouteKey="ANY /elb/{proxy+}", Target=f"integrations/{elb['IntegrationId']}")
    gw.create_stage(ApiId=api_id, StageName="dev", AutoDeploy=True)

    # "You can't delete a VPC link while an integration uses it" — AWS answers 409.
    conflict = expect_error("ConflictException", lambda: gw.delete_vpc_link(VpcLinkId=link_id))
    assert gw.get_vpc_link(VpcLinkId=link_id)["Name"] == "orders-private"

    # A link that only a deployment still uses: the integration is gone from the API,
    # but stage v1 serves a deployment made while it existed, so nodes still route to it.
    frozen_api = gw.create_api(Name="frozen", ProtocolType="HTTP")["ApiId"]
    frozen = private_integration(gw, frozen_api, scratch["VpcLinkId"], "http://scratch.internal/")
    route = gw.create_route(ApiId=frozen_api, RouteKey="GET /scratch",
                            Target=f"integrations/{frozen['IntegrationId']}")
    gw.create_stage(ApiId=frozen_api, StageName="v1")
    gw.create_deployment(ApiId=frozen_api, StageName="v1")
    gw.delete_route(ApiId=frozen_api, RouteId=route["RouteId"])
    gw.delete_integration(ApiId=frozen_api, IntegrationId=frozen["IntegrationId"])
    frozen_conflict = expect_error("ConflictException",
                                   lambda: gw.delete_vpc_link(VpcLinkId=scratch["VpcLinkId"]))
    gw.delete_stage(ApiId=frozen_api, StageName="v1")
    deleted = gw.delete_vpc_link(VpcLinkId=scratch["VpcLinkId"])
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202, deleted
    errors["deleted"] = expect_error("NotFoundException",
                                     lambda: gw.get_vpc_link(VpcLinkId=scratch["VpcLinkId"]))
    gw.delete_api(ApiId=frozen_api)
    assert [i["VpcLinkId"] for i in gw.get_vpc_links()["Items"]] == [link_id]

    print(json.dumps({
        "linkId": link_id,
        "apiId": api_id,
        "internalIntegrationId": internal["IntegrationId"],
        "elbIntegrationId": elb["IntegrationId"],
        "frozenApiId": frozen_api,
        "frozenIntegrationId": frozen["IntegrationId"],
        "link": plain(gw.get_vpc_link(VpcLinkId=link_id)),
        "conflict": conflict,
        "frozenConflict": frozen_conflict,
        "errors": errors,
    }))


def make_tls_pki(workdir):
    """A CA and a leaf it signs for `SECURE_NAME` and 127.0.0.1 (EC P-256), as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID
    from custom_domains import cert_pem, key_pem, make_cert, name, new_key

    os.makedirs(workdir, exist_ok=True)
    ca_key = new_key()
    ca = make_cert(name("Portico VPC link test CA", "Portico Tests"), ca_key, ca=True, path_length=0)
    leaf_key = new_key()
    now = datetime.datetime.now(datetime.timezone.utc)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name(SECURE_NAME))
        .issuer_name(ca.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName(SECURE_NAME), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = {}
    for label, data in (("ca", cert_pem(ca)), ("cert", cert_pem(leaf)), ("key", key_pem(leaf_key))):
        paths[label] = os.path.join(workdir, f"secure-{label}.pem")
        with open(paths[label], "wb") as f:
            f.write(data)
    return paths


def tls(gw, workdir):
    paths = make_tls_pki(workdir)
    link = gw.create_vpc_link(Name="secure", SubnetIds=["east"])
    link_id = link["VpcLinkId"]
    api_id = gw.create_api(Name="secure", ProtocolType="HTTP")["ApiId"]
    ok = private_integration(gw, api_id, link_id, f"https://{SECURE_NAME}/{{proxy}}",
                             TlsConfig={"ServerNameToVerify": SECURE_NAME})
    assert ok["TlsConfig"] == {"ServerNameToVerify": SECURE_NAME}, ok
    wrong = private_integration(gw, api_id, link_id, f"https://{SECURE_NAME}/{{proxy}}",
                                TlsConfig={"ServerNameToVerify": "wrong.secure.test"})
    gw.create_route(ApiId=api_id, RouteKey="GET /ok/{proxy+}", Target=f"integrations/{ok['IntegrationId']}")
    gw.create_route(ApiId=api_id, RouteKey="GET /wrong/{proxy+}", Target=f"integrations/{wrong['IntegrationId']}")
    gw.create_stage(ApiId=api_id, StageName="dev", AutoDeploy=True)
    print(json.dumps({"linkId": link_id, "apiId": api_id, **paths}))


def teardown(gw, link_id, api_id):
    again = expect_error("ConflictException", lambda: gw.delete_vpc_link(VpcLinkId=link_id))
    gw.delete_api(ApiId=api_id)
    deleted = gw.delete_vpc_link(VpcLinkId=link_id)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202, deleted
    gone = expect_error("NotFoundException", lambda: gw.get_vpc_link(VpcLinkId=link_id))
    assert link_id not in [i["VpcLinkId"] for i in gw.get_vpc_links()["Items"]]
    print(json.dumps({"conflict": again, "gone": gone}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("step", choices=["configure", "tls", "teardown"])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--workdir")
    p.add_argument("--link-id")
    p.add_argument("--api-id")
    a = p.parse_args()
    gw = client(a.endpoint)
    if a.step == "configure":
        configure(gw)
    elif a.step == "tls":
        tls(gw, a.workdir)
    else:
        teardown(gw, a.link_id, a.api_id)


if __name__ == "__main__":
    main()
