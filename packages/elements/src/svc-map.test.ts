import { describe, expect, it } from "vitest";
import { mergeSvcMaps, parseSvcMap, svcMapServicesText } from "./svc-map.js";

const nova = parseSvcMap(
  "nova-api:\n  default: openstack-nova-api\n  debian: nova-api\n  ubuntu: nova-api-ubuntu\nnova-cert:\n  default: openstack-nova-cert\n",
  "nova/svc-map",
);
const web = parseSvcMap("httpd:\n  debian: apache2\n  redhat: httpd\nplain:\n", "web/svc-map");

describe("mergeSvcMaps", () => {
  it("takes the distro's name, else its family's, else default, else the service itself", () => {
    const maps = [
      { element: "nova", map: nova },
      { element: "web", map: web },
    ];
    expect(mergeSvcMaps(maps, "ubuntu")).toEqual({
      "nova-api": "nova-api-ubuntu",
      "nova-cert": "openstack-nova-cert",
      httpd: "apache2",
      plain: "plain",
    });
    expect(mergeSvcMaps(maps, "debian")["nova-api"]).toBe("nova-api");
    expect(mergeSvcMaps(maps, "rocky")).toMatchObject({
      "nova-api": "openstack-nova-api",
      httpd: "httpd",
    });
    expect(mergeSvcMaps(maps, "gentoo").httpd).toBe("httpd");
  });

  it("refuses a service two elements map, naming both", () => {
    const again = parseSvcMap("httpd:\n  default: web2\n", "other/svc-map");
    try {
      mergeSvcMaps(
        [
          { element: "web", map: web },
          { element: "other", map: again },
        ],
        "debian",
      );
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({
        code: "DIB_SVC_MAP_DUPLICATE",
        message: "httpd already found in services list.  Check other for duplicate service name.",
      });
    }
  });

  it("rejects a file that is not a service table, with its line", () => {
    expect(() => parseSvcMap("httpd:\n  debian: [a, b]\n", "bad/svc-map")).toThrow(
      expect.objectContaining({ code: "DIB_SVC_MAP_INVALID" }),
    );
  });
});

describe("svcMapServicesText", () => {
  it("writes sorted `service: name` lines, quoting only what needs it", () => {
    expect(svcMapServicesText({ b: "apache2", a: "it's odd", "c@1": "x.service" })).toBe(
      "a: 'it''s odd'\nb: apache2\nc@1: x.service\n",
    );
    expect(svcMapServicesText({})).toBe("{}\n");
  });
});
