(* The fd-array functions convert their arguments; the test driver refuses them
   with libvirt's error, raised as Pyvirt.Error. *)
open Pyvirt
open Harness

let error f =
  match f () with
  | _ -> raise (Check_failed "no error raised")
  | exception Pyvirt.Error e -> e

let no_support fn e =
  check_eq (fn ^ " code") string_of_int err_no_support e.code;
  check_eq (fn ^ " domain") string_of_int from_none e.domain;
  check_eq (fn ^ " message") Fun.id
    ("this function is not supported by the connection driver: " ^ fn) e.message

let ends_with s suffix =
  let n = String.length s and k = String.length suffix in
  n >= k && String.sub s (n - k) k = suffix

let () =
  let conn = connect_open ~name:"test:///default" () in
  let dom = Connect.domain_lookup_by_name conn "test" in
  test "qemu_monitor_command_with_files" (fun () ->
      no_support "virDomainQemuMonitorCommandWithFiles"
        (error (fun () -> Domain.qemu_monitor_command_with_files dom "{}" [| 0; 1 |])));
  test "lxc_open_namespace" (fun () ->
      no_support "virDomainLxcOpenNamespace" (error (fun () -> Domain.lxc_open_namespace dom)));
  (* libvirt joins the namespaces in the caller's process: unknown flags make it
     fail first (pyvirt's library does not join them yet: it says not supported). *)
  test "lxc_enter_namespace" (fun () ->
      let e = error (fun () -> Domain.lxc_enter_namespace ~flags:1 dom [| -1 |]) in
      check_eq "domain" string_of_int from_none e.domain;
      check "message" (ends_with e.message "virDomainLxcEnterNamespace"));
  finish ()
