(* The old event API and close callbacks: callbacks without user data, undone by
   passing the same closure back (physically the same). *)
open Pyvirt
open Harness

let () =
  event_register_default_impl ();
  let conn = connect_open ~name:"test:///default" () in
  let seen = ref 0 in
  let cb _ _ _ _ = incr seen in
  let other _ _ _ _ = decr seen in
  test "domain_event_deregister" (fun () ->
      ignore (Connect.domain_event_register conn cb);
      check_eq "a closure never registered" string_of_int err_invalid_arg
        (error_code (fun () -> Connect.domain_event_deregister conn other));
      Connect.domain_event_deregister conn cb;
      check_eq "twice" string_of_int err_invalid_arg
        (error_code (fun () -> Connect.domain_event_deregister conn cb));
      ignore (Connect.domain_event_register conn cb);
      Connect.domain_event_deregister conn cb);
  test "unregister_close_callback" (fun () ->
      let close _ _ = () in
      Connect.register_close_callback conn close;
      Connect.unregister_close_callback conn close);
  finish ()
