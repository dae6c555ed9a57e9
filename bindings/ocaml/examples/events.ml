(* events: watch lifecycle events with the default event loop (shared example). *)
open Pyvirt

let xml = "<domain type='test'><name>watched</name><memory>524288</memory><vcpu>1</vcpu>"
          ^ "<os><type>hvm</type></os></domain>"

let fail e = Printf.printf "error: %s\n" (error_to_string e); exit 1

let () =
  try
    event_register_default_impl ();
    let conn = connect_open ~name:"test:///default" () in
    let lines = Queue.create () in
    let id = Connect.domain_event_register_any conn None domain_event_id_lifecycle
        (Domain_event (fun _ dom event detail ->
             Queue.add (Printf.sprintf "event: domain=%s event=%d detail=%d"
                          (Domain.get_name dom) event detail) lines)) in
    let dom = Connect.domain_define_xml conn xml in
    List.iter (fun f -> try f dom with Error _ -> ())
      [Domain.create; Domain.suspend; Domain.resume; Domain.destroy; Domain.undefine];
    Domain.free dom;
    (* Callbacks run in the thread that runs the event loop: this one. *)
    ignore (event_add_timeout 10000 (fun _ -> print_endline "timeout"; exit 1));
    let printed = ref 0 in
    while !printed < 6 do
      if Queue.is_empty lines then event_run_default_impl ();
      while not (Queue.is_empty lines) && !printed < 6 do
        print_endline (Queue.pop lines);
        incr printed
      done
    done;
    (try Connect.domain_event_deregister_any conn id with Error e ->
       Printf.printf "error: %s\n" (error_to_string e));
    print_endline "done"
  with Error e -> fail e
