(* Objects, results, errors and constants against test:///default. *)
open Pyvirt
open Harness

let xml = "<domain type='test'><name>ocaml</name><memory>65536</memory><vcpu>1</vcpu>"
          ^ "<os><type>hvm</type></os></domain>"

let () =
  let conn = connect_open ~name:"test:///default" () in
  test "constants" (fun () ->
      check_eq "domain_running" string_of_int 1 domain_running;
      check_eq "uuid_buflen" string_of_int 16 uuid_buflen;
      check_eq "domain_scheduler_weight" Fun.id "weight" domain_scheduler_weight);
  test "version and host" (fun () ->
      let lib, _ = get_version () in
      check "library version" (lib >= 9000000);
      check "hypervisor version" (Connect.get_version conn > 0);
      check "node cpus" ((Connect.node_get_info conn).cpus > 0));
  test "lookup and names" (fun () ->
      let dom = Connect.domain_lookup_by_name conn "test" in
      check_eq "name" Fun.id "test" (Domain.get_name dom);
      check_eq "uuid bytes" string_of_int 16 (String.length (Domain.get_uuid dom));
      let same = Connect.domain_lookup_by_uuid conn (Domain.get_uuid dom) in
      check_eq "by uuid" Fun.id (Domain.get_uuid_string dom) (Domain.get_uuid_string same);
      check "xml" (String.length (Domain.get_xml_desc dom) > 0);
      check_eq "all domains" string_of_int 1 (Array.length (Connect.list_all_domains conn)));
  test "errors carry libvirt's code" (fun () ->
      check_eq "no domain" string_of_int err_no_domain
        (error_code (fun () -> Connect.domain_lookup_by_name conn "nope"));
      match Connect.domain_lookup_by_name conn "nope" with
      | _ -> check "raised" false
      | exception Error e ->
        check "message" (String.length e.message > 0);
        check "printer" (String.length (Printexc.to_string (Error e)) > 0));
  test "define, start, stop, undefine" (fun () ->
      let dom = Connect.domain_define_xml conn xml in
      check "defined" (Array.mem "ocaml" (Connect.list_defined_domains conn 16));
      Domain.create dom;
      check_eq "running" string_of_int domain_running (fst (Domain.get_state dom));
      check_eq "info" string_of_int 65536 (Domain.get_info dom).maxMem;
      Domain.destroy dom;
      check_eq "stop twice" string_of_int err_operation_invalid
        (error_code (fun () -> Domain.destroy dom));
      Domain.undefine dom;
      Domain.free dom;
      check_eq "freed" string_of_int err_invalid_arg
        (error_code (fun () -> Domain.get_name dom)));
  test "objects left to the GC" (fun () ->
      for _ = 1 to 200 do ignore (Connect.domain_lookup_by_name conn "test") done;
      Gc.full_major ());
  test "close" (fun () ->
      let c2 = connect_open ~name:"test:///default" () in
      check_eq "close" string_of_int 0 (Connect.close c2);
      check_eq "closed" string_of_int err_invalid_arg
        (error_code (fun () -> Connect.get_hostname c2)));
  finish ()
